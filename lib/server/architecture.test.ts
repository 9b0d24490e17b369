/**
 * The layout's rules, checked on the source: feature folders of lib/server import each other
 * without cycles; production code never imports the testing folder; lib/rrpc (shared with the
 * browser) does no I/O; the browser's code never imports server code; and Next.js's production
 * build holds no copy of the server (the server runs once, from dist/server.mjs).
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(__dirname, "..", "..");
const server = join(root, "lib", "server");

function files(dir: string, test: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" ? [] : files(p, test);
    return test(p) ? [p] : [];
  });
}

const source = (f: string) => /\.(ts|tsx|mts|mjs)$/.test(f) && !/\.d\.mts$/.test(f);
const isTest = (f: string) => /\.test\.tsx?$/.test(f);

/** Relative and `@/` imports of a file, resolved to absolute paths (without extension). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.flatMap((s) => {
    if (s.startsWith("@/")) return [join(root, s.slice(2))];
    if (s.startsWith(".")) return [resolve(dirname(file), s)];
    return [`pkg:${s}`];
  });
}

const folderOf = (p: string) => relative(server, p).split("/")[0]!;

describe("the layout", () => {
  it("lib/server's feature folders import each other without cycles", () => {
    const graph = new Map<string, Set<string>>();
    for (const f of files(server, (p) => source(p) && !isTest(p))) {
      const from = folderOf(f);
      if (from.includes(".")) continue; // a file at the top of lib/server (this test)
      for (const target of importsOf(f)) {
        if (!target.startsWith(server + "/")) continue;
        const to = folderOf(target);
        if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
      }
    }
    expect(graph.size).toBeGreaterThan(10);
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of graph.get(node) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(" → "));
        else visit(next, [...path, next]);
      }
    };
    for (const node of graph.keys()) visit(node, [node]);
    expect(cycles).toEqual([]);
  });

  it("production code never imports test helpers", () => {
    const offenders = [root, join(root, "server"), join(root, "scripts")]
      .flatMap((d) => (d === root ? files(join(root, "lib"), (p) => source(p) && !isTest(p)) : files(d, (p) => source(p) && !isTest(p))))
      .filter((f) => !f.includes(`${join(server, "testing")}/`))
      .filter((f) => importsOf(f).some((t) => t.startsWith(join(server, "testing"))))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it("lib/rrpc does no I/O and imports no server code", () => {
    const rrpc = files(join(root, "lib", "rrpc"), (p) => source(p) && !isTest(p));
    expect(rrpc.length).toBeGreaterThan(5);
    const bad = rrpc.flatMap((f) =>
      importsOf(f)
        .filter((t) => (t.startsWith("pkg:") ? t !== "pkg:zod" : !t.startsWith(join(root, "lib", "rrpc"))))
        .map((t) => `${relative(root, f)} imports ${t.replace(root + "/", "")}`),
    );
    const io = rrpc.filter((f) =>
      /\b(fetch|require)\s*\(|\b(XMLHttpRequest|WebSocket|localStorage)\b|\bprocess\./.test(
        readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""),
      ),
    );
    expect(bad).toEqual([]);
    expect(io.map((f) => relative(root, f))).toEqual([]);
  });

  it("the browser's code (app, components, lib/hooks) never imports server code", () => {
    const browser = ["app", "components", join("lib", "hooks")].flatMap((d) => files(join(root, d), source));
    expect(browser.length).toBeGreaterThan(10);
    const bad = browser
      .filter((f) => importsOf(f).some((t) => t.startsWith(server) || t.startsWith(join(root, "server"))))
      .map((f) => relative(root, f));
    expect(bad).toEqual([]);
  });

  it("Next.js's production build holds no copy of the server", () => {
    const built = join(root, ".next", "server");
    if (!existsSync(join(root, ".next", "BUILD_ID"))) throw new Error("no production build: run `npm run build` first");
    // Strings that exist only in lib/server's code.
    const markers = ["hub cannot subscribe to replies", "store writer thread unavailable", "embedded broker listening"];
    const chunks = files(built, (p) => p.endsWith(".js"));
    expect(chunks.length).toBeGreaterThan(0);
    const hits = chunks.filter((f) => markers.some((m) => readFileSync(f, "utf8").includes(m))).map((f) => relative(root, f));
    expect(hits).toEqual([]);
    // …and the compiled server does carry them, so the markers are real.
    const dist = readFileSync(join(root, "dist", "server.mjs"), "utf8");
    for (const m of markers) expect(dist).toContain(m);
  });
});
