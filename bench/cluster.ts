/**
 * `npm run bench:cluster [-- --hubs 1,3 --seconds 15 --concurrency 64 --devices 100]`: calls/s
 * through 1 hub and through 3 hubs on the same PostgreSQL and Mosquitto (docs/scale-out.md,
 * docs/benchmarks.md). Closed loop over HTTP (POST /api/calls), requests spread round robin over
 * the hubs, echo devices. Reports calls/s, latency and CPU per call of the hubs, PostgreSQL
 * (the postmaster and its backends) and Mosquitto. On a 2-core machine no gain is expected: every
 * process competes for the same cores; the point of several hubs is availability.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startMosquitto, startServer, type ServerHandle } from "../lib/server/testing/servers";
import { startPostgres } from "../lib/server/testing/postgres";
import { BENCH_PRODUCT, deviceNames } from "./common";
import { cpuMicrosOf } from "./cpu";
import type { EchoDevicesApi } from "./echo-devices";
import { JsonClient } from "./http-client";
import { forkChild, machineInfo, stopOnInterrupt } from "./proc";
import { fmtMs, markdownTable, summarize } from "./stats";

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** The PostgreSQL server listening on `port` and its backends: pids whose ancestor is the postmaster. */
function postgresPids(port: number): number[] {
  const procs = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
        return { pid: Number(d), ppid, cmd };
      } catch {
        return null;
      }
    })
    .filter((p) => p !== null);
  const master = procs.find((p) => /postgres$/.test(p.cmd[0] ?? "") && p.cmd.join(" ").includes(`-p ${port} `));
  if (!master) return [];
  return [master.pid, ...procs.filter((p) => p.ppid === master.pid).map((p) => p.pid)];
}

const cpuOf = (pids: number[]) => pids.reduce((s, p) => s + (cpuMicrosOf(p) || 0), 0);

type Result = {
  hubs: number;
  calls: number;
  seconds: number;
  latency: number[];
  errors: number;
  us: { hubs: number; postgres: number; mosquitto: number };
};

async function run(hubs: number, o: { seconds: number; warmup: number; concurrency: number; devices: number }): Promise<Result> {
  const [pg, mosquitto] = await Promise.all([startPostgres(), startMosquitto()]);
  const servers: ServerHandle[] = [];
  const devices = forkChild<EchoDevicesApi>("echo-devices");
  try {
    const env = { DATABASE_URL: await pg.createDatabase(), MQTT_URL: mosquitto.url, RRPC_SIMULATOR: "0", RRPC_LOG_LEVEL: "warn" };
    servers.push(stopOnInterrupt(await startServer(env)));
    for (let i = 1; i < hubs; i++) servers.push(stopOnInterrupt(await startServer(env)));
    const clients = servers.map((s) => new JsonClient(s.url, o.concurrency));
    const names = deviceNames(o.devices);
    for (const [i, deviceName] of names.entries()) {
      const r = await clients[i % clients.length]!.post("/api/devices", { productId: BENCH_PRODUCT, deviceName });
      if (r.status !== 201) throw new Error(`registering ${deviceName}: ${r.status}`);
    }
    await devices.call("connect", { url: mosquitto.url, productId: BENCH_PRODUCT, from: 0, count: o.devices });
    const payload = "x".repeat(64);
    let measuring = false;
    let stop = false;
    let calls = 0;
    let errors = 0;
    let next = 0;
    const latency: number[] = [];
    const loop = async () => {
      while (!stop) {
        const c = clients[next++ % clients.length]!;
        const t = performance.now();
        const r = await c.post("/api/calls", { productId: BENCH_PRODUCT, deviceName: names[Math.floor(Math.random() * names.length)], payload });
        if (!measuring) continue;
        if (r.status === 200) {
          calls++;
          latency.push(performance.now() - t);
        } else errors++;
      }
    };
    const loops = Array.from({ length: o.concurrency }, loop);
    await new Promise((r) => setTimeout(r, o.warmup * 1000));
    const pgPids = postgresPids(pg.port);
    const hubPids = servers.map((s) => s.proc.pid!);
    const before = { hubs: cpuOf(hubPids), postgres: cpuOf(pgPids), mosquitto: cpuOf([mosquitto.proc.pid!]) };
    const t0 = performance.now();
    measuring = true;
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const after = {
      hubs: cpuOf(hubPids),
      postgres: cpuOf(postgresPids(pg.port).filter((p) => pgPids.includes(p))),
      mosquitto: cpuOf([mosquitto.proc.pid!]),
    };
    const n = calls;
    stop = true;
    await Promise.all(loops);
    for (const c of clients) c.close();
    return {
      hubs,
      calls: n,
      seconds,
      latency,
      errors,
      us: {
        hubs: (after.hubs - before.hubs) / n,
        postgres: (after.postgres - before.postgres) / n,
        mosquitto: (after.mosquitto - before.mosquitto) / n,
      },
    };
  } finally {
    await devices.close();
    for (const s of servers) await s.stop();
    await mosquitto.stop();
    await pg.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hubs: { type: "string", default: "1,3" },
      seconds: { type: "string", default: "15" },
      warmup: { type: "string", default: "5" },
      concurrency: { type: "string", default: "64" },
      devices: { type: "string", default: "100" },
    },
  });
  const o = {
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    concurrency: Number(values.concurrency),
    devices: Number(values.devices),
  };
  const results: Result[] = [];
  for (const n of values.hubs.split(",").map(Number)) {
    log(`${n} hub(s): ${o.concurrency} requests in flight, ${o.warmup} s warm-up, ${o.seconds} s measured…`);
    results.push(await run(n, o));
  }
  const m = machineInfo();
  const base = results[0]!.calls / results[0]!.seconds;
  const rows = results.map((r) => {
    const l = summarize(r.latency);
    const rate = r.calls / r.seconds;
    return [
      String(r.hubs),
      rate.toFixed(0),
      `${(rate / base).toFixed(2)}×`,
      `${fmtMs(l.p50)} / ${fmtMs(l.p99)}`,
      r.us.hubs.toFixed(0),
      r.us.postgres.toFixed(0),
      r.us.mosquitto.toFixed(0),
      String(r.errors),
    ];
  });
  process.stdout.write(
    [
      `## rrpc-hub: calls/s through several hubs (PostgreSQL + Mosquitto), ${new Date().toISOString()}`,
      "",
      `${m.cpu} × ${m.cores}, Node ${m.node}; ${o.concurrency} HTTP requests in flight spread over the hubs, ${o.devices} echo devices, 64-byte payloads, ${o.seconds} s measured`,
      "",
      markdownTable(["hubs", "calls/s", "vs first", "latency p50 / p99", "CPU µs/call: hubs", "PostgreSQL", "Mosquitto", "errors"], rows),
      "",
    ].join("\n"),
  );
}

main().catch((err: Error) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
