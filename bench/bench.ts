/**
 * `npm run bench [-- --quick]`: is the hub ever the bottleneck? Measures, in one run and on
 * the same machine, the MQTT floor (no hub), the engine (Hub.call), the production HTTP API
 * and a bare node:http baseline, at 1/100/1,000 calls in flight and 1/100/1,000 devices, with
 * the embedded broker and with Mosquitto; plus memory per idle device, timeout precision and
 * the messages per second the dashboard's live timeline ingests in Chromium (bench/ui-ingest.ts).
 * Prints Markdown tables and writes bench-results.json. See docs/benchmarks.md.
 */
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { sleep, startMosquitto, startServer, tempDir, type Mosquitto, type ServerHandle } from "../lib/server/testing/servers";
import { newestSourceAfter } from "./build-check";
import { BENCH_PRODUCT, benchPayloadText, deviceNames } from "./common";
import type { BatchJson } from "../lib/rrpc/batch";
import { LOAD_GEN_ROLE, mergePids, type CpuPids } from "./cpu";
import type { EchoDevicesApi } from "./echo-devices";
import type { FloorRequesterApi } from "./floor-requester";
import type { HttpLoadApi } from "./http-load";
import type { HubHostApi } from "./hub-host";
import type { LoadResult, LoadSpec } from "./load";
import { childWarnings, forkChild, machineInfo, rssOf, stopOnInterrupt, type Child } from "./proc";
import { provisionDevices } from "./provision";
import {
  buildReport,
  cellOf,
  fmtUs,
  printReport,
  roundOf,
  type BrokerKind,
  type Cell,
  type CellKey,
  type FanoutResult,
  type MemoryResult,
  type Round,
  type RowKind,
  type TimeoutRow,
} from "./report";
import { chromiumAvailable, chromiumPath, measureUiIngest, type UiIngestResult, type UiIngestSpec } from "./ui-ingest";

const ROOT = join(__dirname, "..");
/** Calls in the benchmark never time out (a timeout would be a failure). */
const CALL_TIMEOUT_MS = 10_000;

type Mode = {
  name: "quick" | "full";
  brokers: BrokerKind[];
  /** Brokers the bare-http and http rows are measured with. */
  httpBrokers: BrokerKind[];
  /** Brokers whose memory per idle device is measured (the others' timeouts are, on `timeoutCalls` silent devices). */
  memoryBrokers: BrokerKind[];
  deviceCounts: number[];
  concurrencies: number[];
  warmupMs: number;
  durationMs: number;
  /** bare-http, http and tencent are measured this many times, alternating (bare-http, http, tencent, bare-http, …). */
  httpRounds: number;
  /**
   * floor/engine cells are measured this many times (kinds alternating within each round), each
   * cell reporting its median and spread: single runs through aedes at 1,000 in flight vary by 2–4×
   */
  mqttRounds: number;
  /**
   * Also the rows that explain a ratio rather than give one (full runs): `engine-early` (what
   * durable answers cost) and `colocated-mqtt` (what the in-process transport saves).
   */
  explainRows: boolean;
  /** Calls each new requester process makes before its first cell (JIT warm-up). */
  warmupCalls: number;
  memoryDevices: number;
  timeoutCalls: number;
  timeoutRounds: number;
  timeoutMs: number;
  /** The live timeline in Chromium under a clock-paced flood (bench/ui-ingest.ts): the dashboard flood test's 2,000 messages/s for 5 s. */
  ui: UiIngestSpec;
  /** A batch to every connected device (POST /api/batches?wait=1 to its answer) against the floor's same round trips, rounds alternating. */
  fanout: { devices: number; concurrency: number; rounds: number };
};

const MODES: Record<Mode["name"], Mode> = {
  full: {
    name: "full",
    brokers: ["embedded", "mosquitto"],
    httpBrokers: ["embedded", "mosquitto"],
    memoryBrokers: ["embedded", "mosquitto"],
    deviceCounts: [1, 100, 1000],
    concurrencies: [1, 100, 1000],
    warmupMs: 1000,
    durationMs: 3000,
    mqttRounds: 2,
    httpRounds: 2,
    explainRows: true,
    warmupCalls: 5000,
    memoryDevices: 10_000,
    timeoutCalls: 1000,
    timeoutRounds: 5,
    timeoutMs: 1000,
    ui: { calls: 300, floodCalls: 10, rate: 8000, seconds: 4, waitMs: 60_000 },
    fanout: { devices: 10_000, concurrency: 1000, rounds: 3 },
  },
  quick: {
    name: "quick",
    brokers: ["embedded", "mosquitto"],
    httpBrokers: ["embedded"],
    memoryBrokers: ["embedded"],
    deviceCounts: [100],
    concurrencies: [1, 100, 1000],
    warmupMs: 200,
    durationMs: 1000,
    mqttRounds: 2,
    httpRounds: 2,
    explainRows: false,
    warmupCalls: 2000,
    memoryDevices: 5000,
    timeoutCalls: 1000,
    timeoutRounds: 2,
    timeoutMs: 1000,
    ui: { calls: 300, floodCalls: 10, rate: 8000, seconds: 4, waitMs: 60_000 },
    fanout: { devices: 10_000, concurrency: 1000, rounds: 2 },
  },
};

const T0 = performance.now();
/** Each line with the seconds since the run started: where the time of a run goes. */
const log = (msg: string) => process.stderr.write(`${((performance.now() - T0) / 1000).toFixed(1).padStart(6)}s ${msg}\n`);

/**
 * One row kind measured on one broker: how to set it up, load it per cell and tear it down;
 * `pids`: the processes it started (role → pid), whose CPU time counts for its cells.
 */
type Target = { pids: CpuPids; run(devices: number, spec: LoadSpec, warmupCalls: number): Promise<LoadResult>; close(): Promise<void> };

class Bench {
  /** Every round measured, by cell. */
  private readonly measured = new Map<string, { key: CellKey; rounds: Round[] }>();
  constructor(readonly mode: Mode) {}

  /** Each cell's figures over its rounds (medians, spreads). */
  get cells(): Cell[] {
    return [...this.measured.values()].map((m) => cellOf(m.key, m.rounds));
  }

  private spec(concurrency: number, cpuPids: CpuPids): LoadSpec {
    return { concurrency, warmupMs: this.mode.warmupMs, durationMs: this.mode.durationMs, cpuPids };
  }

  /**
   * Every device count × every concurrency, for each of `kinds` in turn, devices connected to
   * `url`; `rounds` times over (rounds outermost, so the kinds alternate: floor, engine, …,
   * floor, engine, …). The CPU time of `pids` (the processes shared by the kinds: broker, hub,
   * server), of the device fleet and of the target's own processes is sampled over each cell's
   * measured period.
   */
  private async sweep(
    broker: BrokerKind,
    url: string,
    kinds: [RowKind, () => Promise<Target>][],
    o: { secrets?: string[]; rounds?: number; pids?: CpuPids; note?: string } = {},
  ): Promise<void> {
    const rounds = o.rounds ?? 1;
    for (const devices of this.mode.deviceCounts) {
      const fleet = await this.fleet(broker, url, devices, o.secrets);
      try {
        for (let round = 1; round <= rounds; round++) {
          for (const [kind, open] of kinds) {
            const target = await open();
            try {
              const note = rounds > 1 ? ` (round ${round}/${rounds})` : (o.note ?? "");
              await this.runCells(broker, kind, target, devices, mergePids(o.pids ?? {}, { devices: fleet.pid }), this.mode.warmupCalls, note);
            } finally {
              await target.close();
            }
          }
        }
      } finally {
        await fleet.close();
      }
    }
  }

  /** `devices` echo devices connected to `url` in a process of their own. */
  private async fleet(broker: BrokerKind, url: string, devices: number, secrets?: string[]): Promise<Child<EchoDevicesApi>> {
    const fleet = forkChild<EchoDevicesApi>("echo-devices");
    try {
      const c = await fleet.call("connect", { url, productId: BENCH_PRODUCT, from: 0, count: devices, secrets });
      log(`[${broker}] ${c.connected} echo devices connected in ${c.ms.toFixed(0)} ms`);
      return fleet;
    } catch (err) {
      await fleet.close();
      throw err;
    }
  }

  /** One target's cells, one per concurrency; the first after `warmupCalls` (0: the target is warm). */
  private async runCells(broker: BrokerKind, kind: RowKind, target: Target, devices: number, pids: CpuPids, warmupCalls: number, note: string) {
    const all = mergePids(pids, target.pids);
    for (const concurrency of this.mode.concurrencies) {
      const r = await target.run(devices, this.spec(concurrency, all), warmupCalls);
      warmupCalls = 0;
      this.record({ broker, kind, devices, concurrency }, r, note);
    }
  }

  /** Adds a measurement: a new cell, or another round of one. */
  private record(key: CellKey, r: LoadResult, note: string) {
    const round = roundOf(r);
    const id = `${key.broker}/${key.kind}/${key.devices}/${key.concurrency}`;
    const m = this.measured.get(id);
    if (m) m.rounds.push(round);
    else this.measured.set(id, { key, rounds: [round] });
    const fails = r.failures ? `  FAILURES ${JSON.stringify(r.failureKinds)}` : "";
    const roles = Object.entries(round.cpuByRole)
      .map(([role, us]) => `${role} ${fmtUs(us)}`)
      .join(" · ");
    const loadGen = round.loadGenCpuUsPerCall === null ? "" : `, ${LOAD_GEN_ROLE} ${fmtUs(round.loadGenCpuUsPerCall)}`;
    const cpu = round.cpuUsPerCall === null ? "  CPU not measured" : `  CPU ${fmtUs(round.cpuUsPerCall)} µs/call (${roles}${loadGen})`;
    log(
      `[${key.broker}] ${key.kind.padEnd(16)} devices=${String(key.devices).padEnd(5)} in-flight=${String(key.concurrency).padEnd(5)}` +
        ` ${r.callsPerSecond.toFixed(0).padStart(7)} calls/s  p50 ${r.latency.p50.toFixed(2)} ms  p95 ${r.latency.p95.toFixed(2)} ms  p99 ${r.latency.p99.toFixed(2)} ms${cpu}${note}${fails}`,
    );
  }

  /** floor, engine (and, with aedes, engine-colocated) through one broker. */
  async mqttRows(broker: BrokerKind): Promise<void> {
    const { url, host, pid, stop } = await this.startBroker(broker);
    try {
      const explain = this.mode.explainRows;
      const kinds: [RowKind, () => Promise<Target>][] = [
        ["floor", () => this.floorTarget(url)],
        ["engine", () => this.engineTarget(url)],
      ];
      // The same hub answering before the commit: what durable answers cost (README, "Durability").
      if (explain) kinds.push(["engine-early", () => this.engineTarget(url, true)]);
      // The production layout: the hub in the broker's own process, in-process, with its route/delivered hooks;
      // then the same hub on an MQTT.js connection to that broker, the layout before (what the in-process transport saves).
      if (host) {
        kinds.push(["engine-colocated", () => this.colocatedTarget(host)]);
        if (explain) kinds.push(["colocated-mqtt", () => this.colocatedTarget(host, "mqtt")]);
      }
      await this.sweep(broker, url, kinds, { rounds: this.mode.mqttRounds, pids: { broker: pid } });
    } finally {
      await stop();
    }
  }

  /**
   * bare-http, then http and tencent (the production server), each with its own broker as in
   * production; `httpRounds` times over, both servers staying up across the rounds so that the
   * rows alternate as the MQTT rows do. With Mosquitto each has a Mosquitto of its own: a hub
   * subscribes to every reply, so one broker shared by the two hubs would deliver each reply twice.
   */
  async httpRows(broker: BrokerKind): Promise<void> {
    const bareMosquitto = broker === "mosquitto" ? stopOnInterrupt(await startMosquitto()) : null;
    const mosquitto = broker === "mosquitto" ? stopOnInterrupt(await startMosquitto()) : null;
    // bare-http: hub (+ embedded broker) + node:http in one process.
    const host = forkChild<HubHostApi>("hub-host");
    // http: the production build, started as in tests, its devices registered beforehand.
    const dbPath = join(tempDir("rrpc-bench-"), "rrpc.db");
    let server: ServerHandle | null = null;
    try {
      const bareUrl = await startHostHub(host, bareMosquitto);
      const { port } = await host.call("listenHttp");
      const secrets = await provisionDevices(dbPath, BENCH_PRODUCT, deviceNames(Math.max(...this.mode.deviceCounts)));
      server = stopOnInterrupt(
        await startServer({
          RRPC_DB: dbPath,
          RRPC_SIMULATOR: "0",
          RRPC_LOG_LEVEL: "warn",
          RRPC_MAX_IN_FLIGHT: "100000",
          RRPC_BOOTSTRAP_KEY: `${BENCH_KEY.secretId}:${BENCH_KEY.secretKey}`,
          ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}),
        }),
      );
      const prod = server;
      const serverUrl = mosquitto?.url ?? `mqtt://127.0.0.1:${prod.mqttPort}`;
      const rounds = this.mode.httpRounds;
      // One process for hub + node:http (+ the embedded broker: "broker+hub+http"), Mosquitto apart.
      const barePids = { broker: bareMosquitto?.proc.pid ?? host.pid, "hub+http": host.pid };
      // The production server is one process (Next.js, hub, embedded broker unless MQTT_URL).
      const prodPids = { server: prod.proc.pid ?? 0, broker: mosquitto?.proc.pid ?? 0 };
      for (const devices of this.mode.deviceCounts) {
        // The servers, their devices and the load generators stay up across the rounds: only the rows alternate.
        const fleets = [await this.fleet(broker, bareUrl, devices), await this.fleet(broker, serverUrl, devices, secrets)];
        const targets: [RowKind, Target, CpuPids][] = [
          ["bare-http", await this.httpTarget(`http://127.0.0.1:${port}`), { ...barePids, devices: fleets[0]!.pid }],
          ["http", await this.httpTarget(prod.url), { ...prodPids, devices: fleets[1]!.pid }],
          ["tencent", await this.httpTarget(prod.url, BENCH_KEY), { ...prodPids, devices: fleets[1]!.pid }],
        ];
        try {
          for (let round = 1; round <= rounds; round++) {
            const note = rounds > 1 ? ` (round ${round}/${rounds})` : "";
            for (const [kind, target, pids] of targets)
              await this.runCells(broker, kind, target, devices, pids, round === 1 ? this.mode.warmupCalls : 0, note);
          }
        } finally {
          for (const [, target] of targets) await target.close();
          for (const fleet of fleets) await fleet.close();
        }
      }
      reportServerErrors(prod);
    } finally {
      await server?.stop();
      rmSync(dirname(dbPath), { recursive: true, force: true });
      await host.close();
      await mosquitto?.stop();
      await bareMosquitto?.stop();
    }
  }

  /**
   * Memory per idle device and timeout precision, on a fresh broker + hub. With the embedded
   * broker, bare aedes (no hooks, no hub) is measured first in the same way: the hub's own cost
   * per device is the difference; then the production server as `npm start` runs it. `byFanout`:
   * the fan-out measures those two on its own bare aedes and production server, which it
   * connects its devices to anyway.
   */
  async memoryAndTimeouts(broker: BrokerKind, byFanout: boolean): Promise<{ memory: MemoryResult[]; timeouts: TimeoutRow }> {
    const memory: MemoryResult[] = [];
    let baseline: MemoryResult["baseline"] = null;
    if (broker === "embedded" && !byFanout) {
      const bare = forkChild<HubHostApi>("hub-host", { execArgv: ["--expose-gc"] });
      try {
        const url = `mqtt://127.0.0.1:${(await bare.call("startBareBroker")).port}`;
        const m = await this.memoryOf("aedes", { url, read: hostReader(bare) });
        await m.release();
        baseline = m.result;
      } finally {
        await bare.close();
      }
    }
    const host = forkChild<HubHostApi>("hub-host", { execArgv: ["--expose-gc"] });
    const mosquitto = broker === "mosquitto" ? stopOnInterrupt(await startMosquitto()) : null;
    let timeouts: TimeoutRow;
    try {
      const url = await startHostHub(host, mosquitto);
      // The timeout calls go to the idle (silent) devices still connected.
      const m = await this.memoryOf(broker, { url, read: hostReader(host, mosquitto?.proc.pid) });
      memory.push({ ...m.result, baseline });
      timeouts = await this.timeouts(broker, host).finally(() => m.release());
    } finally {
      await host.close();
      await mosquitto?.stop();
    }
    if (broker === "embedded" && !byFanout) memory.push(await this.serverMemory());
    return { memory, timeouts };
  }

  /** Timeout precision alone (`--only timeouts`): a fresh broker + hub, `timeoutCalls` silent devices connected. */
  async timeoutsOnly(broker: BrokerKind): Promise<TimeoutRow> {
    const host = forkChild<HubHostApi>("hub-host");
    const mosquitto = broker === "mosquitto" ? stopOnInterrupt(await startMosquitto()) : null;
    const fleet = forkChild<EchoDevicesApi>("echo-devices");
    try {
      const url = await startHostHub(host, mosquitto);
      await fleet.call("connect", { url, productId: BENCH_PRODUCT, from: 0, count: this.mode.timeoutCalls, silent: true });
      return await this.timeouts(broker, host);
    } finally {
      await fleet.close();
      await host.close();
      await mosquitto?.stop();
    }
  }

  private async timeouts(broker: BrokerKind, host: Child<HubHostApi>): Promise<TimeoutRow> {
    const t = await host.call("timeouts", {
      productId: BENCH_PRODUCT,
      devices: deviceNames(Math.min(this.mode.memoryDevices, this.mode.timeoutCalls)),
      calls: this.mode.timeoutCalls,
      timeoutMs: this.mode.timeoutMs,
      rounds: this.mode.timeoutRounds,
    });
    log(
      `[${broker}] ${t.calls} timeouts: late by p50 ${t.byEvents.p50.toFixed(2)} / p99 ${t.byEvents.p99.toFixed(2)} ms (trace), p99 ${t.byWallClock.p99.toFixed(2)} ms (caller)`,
    );
    return { broker, ...t };
  }

  /**
   * `npm start`'s one process (Next.js, embedded broker, hub, registry) with the devices
   * registered and logging in with Tencent key authentication, as in production. RSS only: the
   * server has no way to force a GC, and Next.js's own share is in "before".
   */
  private async serverMemory(): Promise<MemoryResult> {
    const dbPath = join(tempDir("rrpc-bench-"), "rrpc.db");
    const secrets = await provisionDevices(dbPath, BENCH_PRODUCT, deviceNames(this.mode.memoryDevices));
    const server = stopOnInterrupt(await startServer({ RRPC_DB: dbPath, RRPC_SIMULATOR: "0", RRPC_LOG_LEVEL: "warn" }));
    try {
      const m = await this.serverWithDevices(server, secrets, this.mode.memoryDevices, false);
      await m.release();
      reportServerErrors(server);
      return m.memory;
    } finally {
      await server.stop();
      rmSync(dirname(dbPath), { recursive: true, force: true });
    }
  }

  /**
   * Connects `n` devices (silent, or echoing for the fan-out) to a production server logging in
   * with their keys, and measures its RSS before and after; the devices stay until `release`.
   */
  private async serverWithDevices(server: ServerHandle, secrets: string[], n: number, echo: boolean) {
    const pid = server.proc.pid ?? 0;
    // Next.js loads its pages lazily: one request to the dashboard and one API call first.
    await fetch(`${server.url}/`).then((r) => r.arrayBuffer());
    await fetch(`${server.url}/api/health`).then((r) => r.arrayBuffer());
    const m = await this.memoryOf(
      "server",
      { url: `mqtt://127.0.0.1:${server.mqttPort}`, secrets, read: async () => ({ rss: rssOf(pid), hubRss: rssOf(pid) }) },
      { devices: n, echo },
    );
    return { memory: { ...m.result, baseline: null } satisfies MemoryResult, release: m.release };
  }

  /**
   * The dashboard's live timeline in Chromium, on the production server as `npm start` runs it
   * (embedded broker), while one device floods it with repeated replies (bench/ui-ingest.ts).
   */
  async uiIngest(): Promise<UiIngestResult> {
    const dbPath = join(tempDir("rrpc-bench-"), "rrpc.db");
    const [deviceName] = deviceNames(1, "ui");
    const [secret] = await provisionDevices(dbPath, BENCH_PRODUCT, [deviceName!]);
    const server = stopOnInterrupt(await startServer({ RRPC_DB: dbPath, RRPC_SIMULATOR: "0", RRPC_LOG_LEVEL: "warn" }));
    try {
      const r = await measureUiIngest(server, { productId: BENCH_PRODUCT, deviceName: deviceName!, secret: secret! }, this.mode.ui);
      log(
        `[ui] Chromium ${r.browser}: the timeline counted ${r.counted} messages in ${r.elapsedS.toFixed(2)} s: ${r.messagesPerSecond.toFixed(0)} messages/s` +
          ` (offered ${r.offeredPerSecond.toFixed(0)}/s, ${r.sent} sent; ratio ${r.ratio.toFixed(2)}); long tasks ${r.longTasks.count}, longest ${r.longTasks.maxMs.toFixed(0)} ms;` +
          ` CPU ms ${Object.entries(r.cpuMs)
            .map(([role, ms]) => `${role} ${ms.toFixed(0)}`)
            .join(" · ")}${r.complete ? "" : `  INCOMPLETE: fewer than ${r.sent} counted within ${r.waitMs} ms`}`,
      );
      reportServerErrors(server);
      return r;
    } finally {
      await server.stop();
      rmSync(dirname(dbPath), { recursive: true, force: true });
    }
  }

  /**
   * One command to every device: the production server (embedded broker) with `devices`
   * registered and connected, a batch to all of them at `concurrency` (POST to the answer of
   * ?wait=1); against the floor's same round trips (one MQTT.js requester, bare aedes, the same
   * number of echo devices, the same concurrency). Both stay up; rounds alternate.
   */
  async fanout(
    measureMemory: boolean,
  ): Promise<{ result: FanoutResult; serverMemory: MemoryResult | null; aedesMemory: Omit<MemoryResult, "baseline"> | null }> {
    const { devices: n, concurrency, rounds } = this.mode.fanout;
    const names = deviceNames(n);
    const fleets: Child<EchoDevicesApi>[] = [];
    const releases: (() => Promise<void>)[] = [];
    const connect = (url: string, secrets?: string[]) =>
      Promise.all(
        Array.from({ length: Math.ceil(n / 5000) }, async (_, i) => {
          const fleet = forkChild<EchoDevicesApi>("echo-devices");
          fleets.push(fleet);
          await fleet.call("connect", { url, productId: BENCH_PRODUCT, from: i * 5000, count: Math.min(5000, n - i * 5000), secrets });
        }),
      );
    const bare = forkChild<HubHostApi>("hub-host", measureMemory ? { execArgv: ["--expose-gc"] } : {});
    const floor = forkChild<FloorRequesterApi>("floor-requester");
    const dbPath = join(tempDir("rrpc-bench-"), "rrpc.db");
    let server: ServerHandle | null = null;
    try {
      // One setup after the other: set up at once, bare aedes's memory per device (the embedded
      // row's baseline) came out above the embedded broker's, connections arriving in other bursts.
      let serverMemory: MemoryResult | null = null;
      let aedesMemory: Omit<MemoryResult, "baseline"> | null = null;
      const bareUrl = `mqtt://127.0.0.1:${(await bare.call("startBareBroker")).port}`;
      // With the memory section: bare aedes's RSS and heap as these devices connect (the embedded row's baseline).
      if (measureMemory) {
        const m = await this.memoryOf("aedes", { url: bareUrl, read: hostReader(bare) }, { devices: n, echo: true });
        releases.push(m.release);
        aedesMemory = m.result;
      } else await connect(bareUrl);
      await floor.call("connect", { url: bareUrl, productId: BENCH_PRODUCT });
      const secrets = await provisionDevices(dbPath, BENCH_PRODUCT, names);
      server = stopOnInterrupt(await startServer({ RRPC_DB: dbPath, RRPC_SIMULATOR: "0", RRPC_LOG_LEVEL: "warn" }));
      // With the memory section: the server's RSS as these devices connect (serverMemory's cell, on this server).
      if (measureMemory) {
        const m = await this.serverWithDevices(server, secrets, n, true);
        releases.push(m.release);
        serverMemory = m.memory;
      } else await connect(`mqtt://127.0.0.1:${server.mqttPort}`, secrets);
      const prod = server;
      log(`[fanout] ${n} echo devices on bare aedes and ${n} on the production server`);
      const floorS: number[] = [];
      const postS: number[] = [];
      const batchS: number[] = [];
      for (let round = 0; round <= rounds; round++) {
        // Round 0 warms both up (JIT, first writes) and is not counted.
        const f = await floor.call("fanout", { productId: BENCH_PRODUCT, devices: n, calls: n, concurrency });
        const t0 = performance.now();
        const r = await fetch(`${prod.url}/api/batches?wait=1&waitMs=120000`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ targets: { productId: BENCH_PRODUCT }, payload: benchPayloadText(), concurrency, timeoutMs: CALL_TIMEOUT_MS }),
        });
        const b = (await r.json()) as BatchJson;
        const s = (performance.now() - t0) / 1000;
        if (b.status !== "done" || b.counts.success !== n) log(`[fanout] WARNING: batch ${b.batchId} ${b.status}: ${JSON.stringify(b.counts)}`);
        if (f.lost > 0) log(`[fanout] WARNING: the floor lost ${f.lost} round trips`);
        log(
          `[fanout] ${round === 0 ? "warm-up" : `round ${round}/${rounds}`}: floor ${f.seconds.toFixed(2)} s; batch POST→done ${s.toFixed(2)} s (batch ${((b.durationMs ?? 0) / 1000).toFixed(2)} s, ${b.counts.success}/${b.total} success)`,
        );
        if (round === 0) continue;
        floorS.push(f.seconds);
        postS.push(s);
        batchS.push((b.durationMs ?? 0) / 1000);
      }
      reportServerErrors(prod);
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const result = {
        devices: n,
        concurrency,
        rounds,
        postToDoneSeconds: postS,
        batchSeconds: batchS,
        floorSeconds: floorS,
        devices10000Seconds: n === 10_000 ? med(postS) : null,
        fanoutVsFloor: med(floorS) / med(postS),
      };
      return { result, serverMemory, aedesMemory };
    } finally {
      await Promise.all(releases.map((r) => r()));
      await Promise.all(fleets.map((f) => f.close()));
      await floor.close();
      await bare.close();
      await server?.stop();
      rmSync(dirname(dbPath), { recursive: true, force: true });
    }
  }

  /** Memory before and after `memoryDevices` idle devices (other processes) connect and subscribe; they stay connected until `release`. */
  private async memoryOf(
    what: MemoryResult["broker"],
    target: { url: string; read: () => Promise<MemoryReading>; secrets?: string[] },
    o: { devices?: number; echo?: boolean } = {},
  ): Promise<{ result: Omit<MemoryResult, "baseline">; release(): Promise<void> }> {
    const fleets: Child<EchoDevicesApi>[] = [];
    const release = () => Promise.all(fleets.map((f) => f.close())).then(() => undefined);
    try {
      await sleep(500);
      const before = await target.read();
      const n = o.devices ?? this.mode.memoryDevices;
      const perFleet = 5000;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: Math.ceil(n / perFleet) }, async (_, i) => {
          const fleet = forkChild<EchoDevicesApi>("echo-devices");
          fleets.push(fleet);
          const set = { url: target.url, productId: BENCH_PRODUCT, from: i * perFleet, count: Math.min(perFleet, n - i * perFleet), silent: !o.echo };
          await fleet.call("connect", { ...set, secrets: target.secrets });
        }),
      );
      await sleep(1000);
      const after = await target.read();
      const perDevice = (a?: number, b?: number) => (a === undefined || b === undefined ? null : (b - a) / n);
      const result: Omit<MemoryResult, "baseline"> = {
        broker: what,
        devices: n,
        rssBefore: before.rss,
        rssAfter: after.rss,
        bytesPerDevice: (after.rss - before.rss) / n,
        settledRssBefore: before.settledRss ?? null,
        settledRssAfter: after.settledRss ?? null,
        settledBytesPerDevice: perDevice(before.settledRss, after.settledRss),
        heapBytesPerDevice: perDevice(before.heap, after.heap),
        processes:
          before.hubRss === before.rss
            ? { hostBefore: before.hubRss, hostAfter: after.hubRss }
            : { hubBefore: before.hubRss, hubAfter: after.hubRss, brokerBefore: before.rss - before.hubRss, brokerAfter: after.rss - after.hubRss },
        deviceProcessesRss: fleets.reduce((s, f) => s + rssOf(f.pid), 0),
      };
      const settled = result.settledBytesPerDevice === null ? "" : `, settled ${mb(before.settledRss!)} → ${mb(after.settledRss!)}`;
      const per = [`${kib(result.bytesPerDevice)} RSS`];
      if (result.settledBytesPerDevice !== null) per.push(`${kib(result.settledBytesPerDevice)} settled`);
      if (result.heapBytesPerDevice !== null) per.push(`${kib(result.heapBytesPerDevice)} heap`);
      log(
        `[${what}] ${n} idle devices (connected in ${(performance.now() - t0).toFixed(0)} ms): RSS ${mb(before.rss)} → ${mb(after.rss)}${settled}; per device ${per.join(", ")}`,
      );
      return { result, release };
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** The broker of the MQTT rows: Mosquitto, or the embedded broker in a hub-host (`host`, where engine-colocated starts its hub); `pid` its process. */
  private async startBroker(broker: BrokerKind): Promise<{ url: string; host: Child<HubHostApi> | null; pid: number; stop(): Promise<void> }> {
    if (broker === "mosquitto") {
      const m: Mosquitto = stopOnInterrupt(await startMosquitto());
      return { url: m.url, host: null, pid: m.proc.pid ?? 0, stop: () => m.stop() };
    }
    const host = forkChild<HubHostApi>("hub-host");
    const { port } = await host.call("startBroker");
    return { url: `mqtt://127.0.0.1:${port}`, host, pid: host.pid, stop: () => host.close() };
  }

  private async floorTarget(url: string): Promise<Target> {
    const floor = forkChild<FloorRequesterApi>("floor-requester");
    await floor.call("connect", { url, productId: BENCH_PRODUCT });
    return {
      pids: { requester: floor.pid },
      run: (devices, spec, warmupCalls) => floor.call("run", { productId: BENCH_PRODUCT, devices, spec, warmupCalls }),
      close: () => floor.close(),
    };
  }

  private async engineTarget(url: string, answerBeforeCommit = false): Promise<Target> {
    const host = forkChild<HubHostApi>("hub-host");
    await host.call("startHub", { url, answerBeforeCommit });
    return {
      pids: { hub: host.pid },
      run: (devices, spec, warmupCalls) => host.call("load", { productId: BENCH_PRODUCT, devices, spec, warmupCalls, timeoutMs: CALL_TIMEOUT_MS }),
      close: () => host.close(),
    };
  }

  private async colocatedTarget(brokerHost: Child<HubHostApi>, transport: "inproc" | "mqtt" = "inproc"): Promise<Target> {
    await brokerHost.call("startHub", { transport });
    return {
      // The broker's process, already counted as "broker": merged into "broker+hub".
      pids: { hub: brokerHost.pid },
      run: (devices, spec, warmupCalls) =>
        brokerHost.call("load", { productId: BENCH_PRODUCT, devices, spec, warmupCalls, timeoutMs: CALL_TIMEOUT_MS }),
      close: () => brokerHost.call("stopHub"),
    };
  }

  /** autocannon in its own process (its CPU reported apart); a short unmeasured run first warms the server up. */
  private async httpTarget(url: string, tencent?: { secretId: string; secretKey: string }): Promise<Target> {
    const loader = forkChild<HttpLoadApi>("http-load");
    return {
      pids: { [LOAD_GEN_ROLE]: loader.pid },
      run: async (devices, spec, warmupCalls) => {
        const base = { url, productId: BENCH_PRODUCT, devices, timeoutMs: CALL_TIMEOUT_MS, tencent };
        if (warmupCalls) await loader.call("run", { ...base, spec: { concurrency: 100, warmupMs: 0, durationMs: this.mode.warmupMs * 2 } });
        return loader.call("run", { ...base, spec });
      },
      close: () => loader.close(),
    };
  }
}

type MemoryReading = { rss: number; hubRss: number; settledRss?: number; heap?: number };

/**
 * Reads a hub-host's memory (plus an external broker's RSS): RSS as it is, then RSS and heap
 * after full GCs (the host runs with --expose-gc). RSS alone also counts garbage not yet
 * collected, which varied by ±4 KB per device between identical runs.
 */
function hostReader(host: Child<HubHostApi>, brokerPid?: number): () => Promise<MemoryReading> {
  return async () => {
    const external = brokerPid ? rssOf(brokerPid) : 0;
    const hubRss = rssOf(host.pid);
    const settled = await host.call("settledMemory");
    return { rss: hubRss + external, hubRss, settledRss: settled.rss + external, heap: settled.heap };
  };
}

/** A hub in the hub-host process, on Mosquitto or on an embedded broker in the same process; the broker's URL. */
async function startHostHub(host: Child<HubHostApi>, mosquitto: { url: string } | null): Promise<string> {
  if (mosquitto) {
    await host.call("startHub", { url: mosquitto.url });
    return mosquitto.url;
  }
  const url = `mqtt://127.0.0.1:${(await host.call("startBroker")).port}`;
  await host.call("startHub", {});
  return url;
}

/** The API key the tencent row signs with (RRPC_BOOTSTRAP_KEY of the benchmarked server). */
const BENCH_KEY = { secretId: "AKIDbenchbenchbenchbenchbenchbench01", secretKey: "benchSecretKeybenchSecretKey0001" };

function reportServerErrors(server: ServerHandle): void {
  const errors = server
    .output()
    .split("\n")
    .filter((l) => l.includes('"level":"error"'));
  if (errors.length) log(`WARNING: the server logged ${errors.length} error line(s), first: ${errors[0]}`);
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      broker: { type: "string", default: "all" },
      only: { type: "string", default: "all" },
      rounds: { type: "string" },
      seconds: { type: "string" },
      "in-flight": { type: "string" },
      out: { type: "string", default: join(ROOT, "bench-results.json") },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    log(
      "usage: npm run bench [-- --quick] [--broker embedded|mosquitto|all] [--only calls|engine|http|memory|timeouts|ui|fanout|all] [--rounds N] [--seconds S] [--in-flight 1,100,1000] [--out FILE]",
    );
    return;
  }
  if (!["calls", "engine", "http", "memory", "timeouts", "ui", "fanout", "all"].includes(values.only))
    throw new Error(`--only ${values.only}: expected calls, engine, http, memory, timeouts, ui, fanout or all`);
  const all = values.only === "all";
  const sections = {
    // engine: the MQTT rows of calls (floor, engine, engine-early, engine-colocated, colocated-mqtt), no HTTP rows.
    engine: all || values.only === "calls" || values.only === "engine",
    calls: all || values.only === "calls",
    // The HTTP rows alone (bare-http, http, tencent): the program paths.
    http: all || values.only === "calls" || values.only === "http",
    memory: all || values.only === "memory",
    // With memory, timeouts are measured on its silent devices; alone, on timeoutCalls of them.
    timeouts: values.only === "timeouts",
    ui: all || values.only === "ui",
    fanout: all || values.only === "fanout",
  };
  const mode = { ...MODES[values.quick ? "quick" : "full"] };
  if (values.rounds !== undefined) {
    const n = Number(values.rounds);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds ${values.rounds}: expected a whole number from 1`);
    // More rounds: steadier medians on a busy machine.
    mode.mqttRounds = mode.httpRounds = n;
  }
  if (values.seconds !== undefined) {
    const s = Number(values.seconds);
    if (!(s > 0)) throw new Error(`--seconds ${values.seconds}: expected a number of seconds above 0`);
    // A longer measured period: more calls per CPU reading (the clock tick is 10 ms).
    mode.durationMs = s * 1000;
  }
  if (values["in-flight"] !== undefined) {
    const list = values["in-flight"].split(",").map(Number);
    if (list.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(`--in-flight ${values["in-flight"]}: expected whole numbers from 1, comma-separated`);
    // Fewer cells per row: the rows alternate more often, so a change in the machine's other load hits them alike.
    mode.concurrencies = list;
  }
  const built = sections.http || sections.ui || sections.fanout;
  if (built && !existsSync(join(ROOT, ".next", "BUILD_ID"))) {
    log("bench: no production build (.next/BUILD_ID is missing). Run `npm run build` first: the http and ui rows measure the production server.");
    process.exit(2);
  }
  const stale = built && newestSourceAfter(ROOT, statSync(join(ROOT, ".next", "BUILD_ID")).mtimeMs);
  if (stale)
    log(`WARNING: ${stale} is newer than the production build; the http and ui rows measure the build. Run \`npm run build\` to refresh it.`);
  if (sections.ui && !chromiumAvailable()) {
    log(`bench: ${chromiumPath()} not found: the ui row is skipped (apt-get install chromium, or set CHROMIUM_PATH)`);
    sections.ui = false;
  }

  const mosquittoBin = process.env.MOSQUITTO_BIN ?? "/usr/sbin/mosquitto";
  mode.brokers = mode.brokers.filter((b) => values.broker === "all" || values.broker === b);
  if (mode.brokers.includes("mosquitto") && !existsSync(mosquittoBin)) {
    log(`bench: ${mosquittoBin} not found: Mosquitto rows skipped (apt-get install mosquitto)`);
    mode.brokers = mode.brokers.filter((b) => b !== "mosquitto");
  }
  if (mode.brokers.length === 0) throw new Error(`--broker ${values.broker}: nothing to measure`);
  // The page connects to the production server's embedded broker.
  if (sections.ui && !mode.brokers.includes("embedded")) {
    log(`bench: the ui row is measured with the embedded broker only (--broker ${values.broker})`);
    sections.ui = false;
  }

  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  if (loadBefore > cpus().length / 2)
    log(`WARNING: load average ${loadBefore.toFixed(1)} on ${cpus().length} cores: other processes are busy, figures will be noisy`);
  log(
    `bench (${mode.name}): brokers ${mode.brokers.join(", ")}; devices ${mode.deviceCounts.join("/")}; in flight ${mode.concurrencies.join("/")}; ${mode.warmupMs} ms warm-up + ${mode.durationMs} ms per cell`,
  );
  const bench = new Bench(mode);
  const memory: MemoryResult[] = [];
  const timeouts: TimeoutRow[] = [];
  // How long each part took: what to cut when the quick run grows past its 3 minutes.
  const phaseSeconds: Record<string, number> = {};
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await run();
    } finally {
      phaseSeconds[name] = (Date.now() - t0) / 1000;
      log(`(${name}: ${phaseSeconds[name]!.toFixed(0)} s)`);
    }
  };
  for (const broker of mode.brokers) {
    if (sections.engine) await phase(`${broker} mqtt rows`, () => bench.mqttRows(broker));
    if (sections.http && mode.httpBrokers.includes(broker)) await phase(`${broker} http rows`, () => bench.httpRows(broker));
    if (sections.timeouts || (sections.memory && !mode.memoryBrokers.includes(broker)))
      timeouts.push(await phase(`${broker} timeouts`, () => bench.timeoutsOnly(broker)));
    if (!sections.memory || !mode.memoryBrokers.includes(broker)) continue;
    // Bare aedes's and the production server's memory are measured by the fan-out when it runs: it has the same brokers and devices.
    const m = await phase(`${broker} memory and timeouts`, () => bench.memoryAndTimeouts(broker, sections.fanout));
    memory.push(...m.memory);
    timeouts.push(m.timeouts);
  }
  const ui = sections.ui ? await phase("ui", () => bench.uiIngest()) : null;
  // The production server's embedded broker: measured whatever --broker says.
  const fanout = sections.fanout ? await phase("fanout", () => bench.fanout(sections.memory)) : null;
  if (fanout?.serverMemory) memory.push(fanout.serverMemory);
  const embedded = memory.find((m) => m.broker === "embedded");
  if (embedded && fanout?.aedesMemory) embedded.baseline = fanout.aedesMemory;
  const report = buildReport({
    mode: mode.name,
    settings: { ...mode, only: values.only, callTimeoutMs: CALL_TIMEOUT_MS, payloadBytes: 64 },
    machine: { ...machineInfo(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg()[0]! },
    cells: bench.cells,
    memory,
    timeouts,
    ui,
    fanout: fanout?.result ?? null,
    warnings: childWarnings(),
    elapsedS: (Date.now() - started) / 1000,
    phaseSeconds,
  });
  printReport(report);
  writeFileSync(values.out, JSON.stringify(report, null, 2) + "\n");
  log(`wrote ${values.out} (${report.elapsedS.toFixed(0)} s)`);
}

main().catch((err: Error) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
