/**
 * `tsx bench/profile-fanout.ts [DEVICES]`: the production server under node --cpu-prof while one
 * batch goes to DEVICES (default 10,000) connected echo devices, three times; keeps the profile
 * in bench-profiles/ (read it with bench/cpuprofile-top.ts). What `fanout` in the bench
 * measures, seen from inside.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { startServer, tempDir } from "../lib/server/testing/servers";
import type { BatchJson } from "../lib/rrpc/batch";
import { BENCH_PRODUCT, benchPayloadText, deviceNames } from "./common";
import type { EchoDevicesApi } from "./echo-devices";
import { forkChild, type Child } from "./proc";
import { provisionDevices } from "./provision";

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const dbPath = join(tempDir("rrpc-prof-"), "rrpc.db");
  const profDir = tempDir("rrpc-cpuprof-");
  const secrets = await provisionDevices(dbPath, BENCH_PRODUCT, deviceNames(n));
  const server = await startServer({ RRPC_DB: dbPath, RRPC_SIMULATOR: "0", RRPC_LOG_LEVEL: "warn" }, ["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
  const fleets: Child<EchoDevicesApi>[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.ceil(n / 5000) }, async (_, i) => {
        const fleet = forkChild<EchoDevicesApi>("echo-devices");
        fleets.push(fleet);
        const url = `mqtt://127.0.0.1:${server.mqttPort}`;
        await fleet.call("connect", { url, productId: BENCH_PRODUCT, from: i * 5000, count: Math.min(5000, n - i * 5000), secrets });
      }),
    );
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const r = await fetch(`${server.url}/api/batches?wait=1&waitMs=120000`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ targets: { productId: BENCH_PRODUCT }, payload: benchPayloadText(), concurrency: 1000 }),
      });
      const b = (await r.json()) as BatchJson;
      process.stderr.write(`round ${round}: ${((performance.now() - t0) / 1000).toFixed(2)} s, ${b.counts.success}/${b.total}\n`);
    }
  } finally {
    await Promise.all(fleets.map((f) => f.close()));
    await server.stop();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error("no profile written");
  const out = join(__dirname, "..", "bench-profiles");
  mkdirSync(out, { recursive: true });
  const kept = join(out, `fanout-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
  copyFileSync(join(profDir, file), kept);
  process.stdout.write(`profile: ${kept}\nread it: npx tsx bench/cpuprofile-top.ts ${kept} 30\n`);
  rmSync(dirname(dbPath), { recursive: true, force: true });
  rmSync(profDir, { recursive: true, force: true });
}

void main();
