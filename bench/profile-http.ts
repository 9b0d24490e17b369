/**
 * Profiles the program paths: the production server (the `http` and `tencent` rows of
 * `npm run bench`) under autocannon load, run with --cpu-prof, then stopped so that it writes its
 * profile; with --bare, the bare-http baseline's process (bench/bare-http.ts) instead.
 *
 *   npx tsx bench/profile-http.ts --row http|tencent|bare [--concurrency 100] [--seconds 10]
 *   npx tsx bench/cpuprofile-top.ts bench-profiles/http/<file>.cpuprofile 30
 *
 * Needs `npm run build` (the production server). See docs/benchmarks.md, "Profiling the program paths".
 */
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startServer, tempDir } from "../lib/server/testing/servers";
import { BENCH_PRODUCT, deviceNames } from "./common";
import type { EchoDevicesApi } from "./echo-devices";
import type { HttpLoadApi } from "./http-load";
import type { HubHostApi } from "./hub-host";
import { forkChild } from "./proc";
import { provisionDevices } from "./provision";

const KEY = { secretId: "AKIDprofileprofileprofileprofile01", secretKey: "profileSecretKeyprofileSecretKey" };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      row: { type: "string", default: "http" },
      concurrency: { type: "string", default: "100" },
      devices: { type: "string", default: "100" },
      seconds: { type: "string", default: "10" },
      dir: { type: "string", default: "bench-profiles/http" },
    },
  });
  const row = values.row;
  if (row !== "http" && row !== "tencent" && row !== "bare") throw new Error(`--row ${row}: expected http, tencent or bare`);
  const concurrency = Number(values.concurrency);
  const devices = Number(values.devices);
  const seconds = Number(values.seconds);
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });
  const prof = ["--cpu-prof", `--cpu-prof-dir=${dir}`];

  const closers: (() => Promise<void>)[] = [];
  try {
    let url: string;
    let mqttUrl: string;
    let secrets: string[] | undefined;
    if (row === "bare") {
      const host = forkChild<HubHostApi>("hub-host", { execArgv: prof });
      closers.unshift(() => host.close());
      mqttUrl = `mqtt://127.0.0.1:${(await host.call("startBroker")).port}`;
      await host.call("startHub", {});
      url = `http://127.0.0.1:${(await host.call("listenHttp")).port}`;
    } else {
      const dbPath = join(tempDir("rrpc-profile-"), "rrpc.db");
      closers.unshift(async () => rmSync(dirname(dbPath), { recursive: true, force: true }));
      secrets = await provisionDevices(dbPath, BENCH_PRODUCT, deviceNames(devices));
      const server = await startServer(
        {
          RRPC_DB: dbPath,
          RRPC_SIMULATOR: "0",
          RRPC_LOG_LEVEL: "warn",
          RRPC_MAX_IN_FLIGHT: "100000",
          RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}`,
        },
        prof,
      );
      closers.unshift(() => server.stop("SIGINT"));
      url = server.url;
      mqttUrl = `mqtt://127.0.0.1:${server.mqttPort}`;
    }
    const fleet = forkChild<EchoDevicesApi>("echo-devices");
    closers.unshift(() => fleet.close());
    await fleet.call("connect", { url: mqttUrl, productId: BENCH_PRODUCT, from: 0, count: devices, secrets });
    const loader = forkChild<HttpLoadApi>("http-load");
    closers.unshift(() => loader.close());
    const base = { url, productId: BENCH_PRODUCT, devices, timeoutMs: 10_000, tencent: row === "tencent" ? KEY : undefined };
    await loader.call("run", { ...base, spec: { concurrency: 100, warmupMs: 0, durationMs: 2000 } });
    const r = await loader.call("run", { ...base, spec: { concurrency, warmupMs: 500, durationMs: seconds * 1000 } });
    process.stdout.write(
      `${row}, ${devices} devices, ${concurrency} in flight: ${r.callsPerSecond.toFixed(0)} calls/s, ` +
        `p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms, failures ${r.failures}; profile in ${dir}\n`,
    );
  } finally {
    for (const close of closers) await close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
