/**
 * `tsx bench/cpuprofile-top.ts FILE.cpuprofile [N]`: the top N functions by self time in a V8
 * CPU profile (from `node --cpu-prof`), and the same grouped by package / file.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { markdownTable } from "./stats";

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

export type TopEntry = { name: string; where: string; selfMs: number; share: number };

/** Where a frame comes from: a package name, a repo-relative file, or a V8 pseudo-frame. */
function origin(url: string): string {
  if (!url) return "(native)";
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "/node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith("node:")) return path;
  return relative(process.cwd(), path);
}

export function topSelfTime(profile: Profile, n = 25): { total: number; functions: TopEntry[]; origins: TopEntry[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const fns = new Map<string, TopEntry>();
  const origins = new Map<string, TopEntry>();
  const add = (map: Map<string, TopEntry>, key: string, name: string, where: string, us: number) => {
    const e = map.get(key) ?? { name, where, selfMs: 0, share: 0 };
    e.selfMs += us / 1000;
    map.set(key, e);
  };
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const where = origin(f.url);
    const name = f.functionName || "(anonymous)";
    add(fns, `${name}@${f.url}:${f.lineNumber}`, name, f.url ? `${where}:${f.lineNumber + 1}` : where, us);
    add(origins, where, where, "", us);
  }
  const rank = (m: Map<string, TopEntry>) =>
    [...m.values()]
      .map((e) => ({ ...e, share: total ? (e.selfMs * 1000) / total : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, n);
  return { total: total / 1000, functions: rank(fns), origins: rank(origins) };
}

function main(): void {
  const [file, count = "25"] = process.argv.slice(2);
  if (!file || !/^\d+$/.test(count)) {
    process.stderr.write("usage: tsx bench/cpuprofile-top.ts FILE.cpuprofile [N]\n");
    process.exit(2);
  }
  const top = topSelfTime(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(count));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  process.stdout.write(`${file}: ${(top.total / 1000).toFixed(1)} s sampled\n\n`);
  process.stdout.write(
    markdownTable(
      ["self", "ms", "function", "where"],
      top.functions.map((e) => [pct(e.share), e.selfMs.toFixed(0), e.name, e.where]),
    ) + "\n\n",
  );
  process.stdout.write(
    markdownTable(
      ["self", "ms", "package / file"],
      top.origins.map((e) => [pct(e.share), e.selfMs.toFixed(0), e.name]),
    ) + "\n",
  );
}

main();
