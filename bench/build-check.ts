/** Is the production build older than the sources it was built from? */
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const SOURCES = ["lib", "app", "components", "instrumentation.ts", "next.config.ts"];

/** Tests and their helpers are not part of the build. */
const NOT_BUILT = /\.test\.ts$|\/testing\.ts$/;

/** The first source file (tests excluded) modified after `mtimeMs`, relative to root; null if none. */
export function newestSourceAfter(root: string, mtimeMs: number): string | null {
  const walk = (path: string): string | null => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return null;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) {
        const hit = walk(join(path, name));
        if (hit) return hit;
      }
      return null;
    }
    return /\.(ts|tsx|css)$/.test(path) && !NOT_BUILT.test(path) && st.mtimeMs > mtimeMs ? relative(root, path) : null;
  };
  for (const s of SOURCES) {
    const hit = walk(join(root, s));
    if (hit) return hit;
  }
  return null;
}
