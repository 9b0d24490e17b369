/** The benchmark's results: ratios computed inside the run, tables, bench-results.json. */
import { LOAD_GEN_ROLE } from "./cpu";
import type { LoadResult } from "./load";
import type { MachineInfo } from "./proc";
import { fmtBytes, fmtMs, fmtRate, markdownTable } from "./stats";
import type { TimeoutResult } from "./timeout-precision";
import type { UiIngestResult } from "./ui-ingest";

export type BrokerKind = "embedded" | "mosquitto";

/**
 * floor             bare MQTT.js requester, no hub (what MQTT costs)
 * engine            Hub.call() in its own process, through the same broker and devices
 * engine-early      engine, answering each call as it ends instead of once it is committed: what durable answers cost
 * engine-colocated  Hub.call() in the embedded broker's process, in-process transport (the production layout)
 * colocated-mqtt    engine-colocated with the hub on an MQTT.js connection to that broker (the layout before the in-process transport)
 * bare-http         node:http + Hub.call() (+ embedded broker) in one process, autocannon load
 * http              POST /api/calls on the production server, autocannon load
 * tencent           (reserved) calls through the Tencent Cloud API-compatible endpoint
 */
export type RowKind = "floor" | "engine" | "engine-early" | "engine-colocated" | "colocated-mqtt" | "bare-http" | "http" | "tencent";
export const ROW_ORDER: readonly RowKind[] = [
  "floor",
  "engine",
  "engine-early",
  "engine-colocated",
  "colocated-mqtt",
  "bare-http",
  "http",
  "tencent",
];
/** What each row is divided by, cell by cell (same broker, devices, calls in flight). */
export const BASELINE: Partial<Record<RowKind, RowKind>> = {
  engine: "floor",
  "engine-early": "engine",
  "engine-colocated": "floor",
  "colocated-mqtt": "engine-colocated",
  http: "bare-http",
  tencent: "bare-http",
};

/** One measurement of one cell (a round), as the load generator reported it. */
export type Round = {
  callsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  calls: number;
  failures: number;
  failureKinds: Record<string, number>;
  /**
   * CPU time (user + system, µs) per successful call over the measured period, summed over the
   * cell's processes except the HTTP load generator; null when not measured (a process gone).
   */
  cpuUsPerCall: number | null;
  /** The same per process, by role ("broker", "hub", "devices", "broker+hub", "server", …). */
  cpuByRole: Record<string, number>;
  /** The HTTP load generator's (autocannon's process) CPU µs per successful call; null for the MQTT rows. */
  loadGenCpuUsPerCall: number | null;
};

export type CellKey = { broker: BrokerKind; kind: RowKind; devices: number; concurrency: number };

/**
 * A cell's figures over its rounds: calls/s, latency percentiles and CPU per call are each the
 * median over the rounds (min–max in the spreads); max latency the highest; calls, failures the sums.
 */
export type Cell = CellKey &
  Round & {
    callsPerSecondSpread: [number, number];
    /** calls/s of each round measured, in order. */
    rounds: number[];
    cpuUsPerCallSpread: [number, number] | null;
    /** CPU µs per call of each round measured, in order (null: not measured). */
    cpuRounds: (number | null)[];
    /** callsPerSecond ÷ the baseline cell's (see BASELINE): higher is better. */
    ratio?: number;
    /** cpuUsPerCall ÷ the baseline cell's: lower is better. */
    cpuRatio?: number;
  };

/** Median (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** [lowest, highest]; null when empty. */
export function spread(xs: readonly number[]): [number, number] | null {
  return xs.length ? [Math.min(...xs), Math.max(...xs)] : null;
}

/** A round from a load run: CPU time per successful call from the samples over its measured window (bench/cpu.ts). */
export function roundOf(r: LoadResult): Round {
  const base = {
    callsPerSecond: r.callsPerSecond,
    p50: r.latency.p50,
    p95: r.latency.p95,
    p99: r.latency.p99,
    max: r.latency.max,
    calls: r.calls,
    failures: r.failures,
    failureKinds: r.failureKinds,
  };
  const cpu = r.cpu;
  if (!cpu || cpu.calls <= 0 || Object.values(cpu.us).some((us) => !Number.isFinite(us))) {
    return { ...base, cpuUsPerCall: null, cpuByRole: {}, loadGenCpuUsPerCall: null };
  }
  const cpuByRole = Object.fromEntries(Object.entries(cpu.us).map(([role, us]) => [role, us / cpu.calls]));
  const loadGen = cpuByRole[LOAD_GEN_ROLE];
  delete cpuByRole[LOAD_GEN_ROLE];
  return {
    ...base,
    cpuUsPerCall: Object.values(cpuByRole).reduce((a, b) => a + b, 0),
    cpuByRole,
    loadGenCpuUsPerCall: loadGen ?? null,
  };
}

/** A cell from its rounds (at least one). */
export function cellOf(key: CellKey, rounds: readonly Round[]): Cell {
  if (rounds.length === 0) throw new Error("a cell needs a round");
  const cps = rounds.map((r) => r.callsPerSecond);
  const cpu = rounds.map((r) => r.cpuUsPerCall);
  const cpuKnown = cpu.filter((x): x is number => x !== null);
  const roles = [...new Set(rounds.flatMap((r) => Object.keys(r.cpuByRole)))];
  const loadGen = rounds.map((r) => r.loadGenCpuUsPerCall).filter((x): x is number => x !== null);
  const failureKinds: Record<string, number> = {};
  for (const r of rounds) for (const [k, n] of Object.entries(r.failureKinds)) failureKinds[k] = (failureKinds[k] ?? 0) + n;
  return {
    ...key,
    callsPerSecond: median(cps),
    callsPerSecondSpread: spread(cps)!,
    p50: median(rounds.map((r) => r.p50)),
    p95: median(rounds.map((r) => r.p95)),
    p99: median(rounds.map((r) => r.p99)),
    max: Math.max(...rounds.map((r) => r.max)),
    calls: rounds.reduce((n, r) => n + r.calls, 0),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    failureKinds,
    rounds: cps,
    cpuUsPerCall: cpuKnown.length ? median(cpuKnown) : null,
    cpuUsPerCallSpread: spread(cpuKnown),
    cpuRounds: cpu,
    cpuByRole: Object.fromEntries(
      roles.map((role) => [role, median(rounds.map((r) => r.cpuByRole[role]).filter((x): x is number => x !== undefined))]),
    ),
    loadGenCpuUsPerCall: loadGen.length ? median(loadGen) : null,
  };
}

export type MemoryResult = {
  /** "aedes": bare aedes, no hooks and no hub (the embedded row's baseline); "server": the production server (npm start). */
  broker: BrokerKind | "aedes" | "server";
  devices: number;
  /** RSS of the hub and broker process(es) before the devices connected and after. */
  rssBefore: number;
  rssAfter: number;
  bytesPerDevice: number;
  /** The same after full garbage collections of the Node.js process (null: not measurable there). */
  settledRssBefore: number | null;
  settledRssAfter: number | null;
  settledBytesPerDevice: number | null;
  /** Growth of the Node.js process's JavaScript heap + external memory, per device, after full GCs. */
  heapBytesPerDevice: number | null;
  /** Embedded: bare aedes measured the same way in the same run; the hub's own cost is the difference. */
  baseline: Omit<MemoryResult, "baseline"> | null;
  processes: Record<string, number>;
  /** RSS of the processes holding the MQTT.js device clients (for scale). */
  deviceProcessesRss: number;
};

export type TimeoutRow = { broker: BrokerKind } & TimeoutResult;

export type RoundSpread = { callsPerSecond: number; cpuUsPerCall: number | null; cells: number };

/** (max − min) ÷ median of each cell measured more than once, the median over those cells. */
export function roundSpreadOf(cells: readonly Cell[]): RoundSpread | null {
  const rel = (r: [number, number] | null, mid: number | null) => (r && mid ? (r[1] - r[0]) / mid : null);
  const many = cells.filter((c) => c.rounds.length > 1);
  if (many.length === 0) return null;
  const cps = many.map((c) => rel(c.callsPerSecondSpread, c.callsPerSecond)).filter((x): x is number => x !== null);
  const cpu = many
    .filter((c) => c.cpuRounds.filter((x) => x !== null).length > 1)
    .map((c) => rel(c.cpuUsPerCallSpread, c.cpuUsPerCall))
    .filter((x): x is number => x !== null);
  return { callsPerSecond: median(cps), cpuUsPerCall: cpu.length ? median(cpu) : null, cells: many.length };
}

export type Ratios = {
  engineVsFloor: number | null;
  engineColocatedVsFloor: number | null;
  httpVsBare: number | null;
  tencentVsBare: number | null;
  /** engine-early ÷ engine, lowest and highest: what answering only after the commit costs. */
  earlyVsEngine: [number, number] | null;
  /** CPU µs per call ÷ the baseline's, cell by cell, the highest (the worst: lower is better). Goal for the engine: ≤ 1.15. */
  engineCpuVsFloor: number | null;
  engineColocatedCpuVsFloor: number | null;
  httpCpuVsBare: number | null;
  tencentCpuVsBare: number | null;
  /** engine-early's CPU per call ÷ engine's, lowest and highest. */
  earlyCpuVsEngine: [number, number] | null;
  /** colocated-mqtt's CPU per call ÷ engine-colocated's, lowest and highest: what the in-process transport saves (above 1). */
  colocatedMqttCpuVsInproc: [number, number] | null;
};

/** One command to many devices: the production server's batch (POST ?wait=1 to its answer) against the floor's same round trips, per round. */
export type FanoutResult = {
  devices: number;
  concurrency: number;
  rounds: number;
  postToDoneSeconds: number[];
  /** The batch's own durationMs, in seconds. */
  batchSeconds: number[];
  floorSeconds: number[];
  /** Median POST→done with 10,000 devices (goal ≤ 2 s); null with another count. */
  devices10000Seconds: number | null;
  /** Median floor seconds ÷ median batch seconds: the batch's throughput as a share of the floor's (goal ≥ 0.8). */
  fanoutVsFloor: number;
};

export type Report = {
  date: string;
  mode: "quick" | "full";
  elapsedS: number;
  /** Seconds each part of the run took (MQTT rows per broker, HTTP rows, memory and timeouts, ui, fanout). */
  phaseSeconds: Record<string, number>;
  machine: MachineInfo & { loadAverageBefore: number; loadAverageAfter: number };
  settings: Record<string, unknown>;
  /**
   * Over every cell measured (all brokers, device counts, concurrencies): throughput ratios the
   * lowest, CPU ratios the highest (each the worst), from the cells' medians over rounds.
   */
  ratios: Ratios & { byBroker: Partial<Record<BrokerKind, Ratios>>; fanoutVsFloor: number | null };
  /**
   * How much the rounds of a cell disagree, (max − min) ÷ median, the median over the cells
   * measured more than once: for calls/s and for CPU µs per call (null: no cell measured twice).
   */
  roundSpread: RoundSpread | null;
  /** Best production HTTP throughput measured. */
  httpCallsPerSecond: number | null;
  /** Embedded broker + hub (one process): RSS growth per 1,000 idle connected, subscribed devices. */
  rssBytesPer1000Devices: number | null;
  /**
   * Embedded: what the hub adds per idle device on top of bare aedes measured in the same run,
   * by JavaScript heap (+ external) and by RSS, both after full GCs; and the broker + hub RSS
   * (settled) with all the devices connected.
   */
  hubBytesPerDevice: { heap: number; settledRss: number } | null;
  settledRssWithDevices: number | null;
  /** The production server (npm start: Next.js + broker + hub) with the devices registered and connected. */
  serverRssWithDevices: number | null;
  /** Embedded: p99 of how late `timeout` fired, from the call's trace / from the caller's clock. */
  timeoutLatenessP99Ms: number | null;
  timeoutLatenessWallP99Ms: number | null;
  /** Embedded: p99 of how late as many bare Node timers ran in the same process and run (the machine's floor). */
  timeoutFloorP99Ms: number | null;
  /** MQTT messages a second the dashboard's live timeline ingested in Chromium under a clock-paced flood (bench/ui-ingest.ts). */
  uiMessagesPerSecond: number | null;
  /** The page's longest task (ms) meanwhile (PerformanceObserver "longtask": 0 when none over 50 ms). */
  uiLongestTaskMs: number | null;
  memory: MemoryResult[];
  timeouts: TimeoutRow[];
  ui: UiIngestResult | null;
  /** A batch to every connected device against the floor (bench.ts, Bench.fanout). */
  fanout: FanoutResult | null;
  /** Process warnings of the child processes (hub, requesters, devices), with counts. */
  warnings: Record<string, number>;
  table: Cell[];
};

const minOrNull = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
const maxOrNull = (xs: number[]) => (xs.length ? Math.max(...xs) : null);

/** Each cell with its ratios to its baseline cell (same broker, devices, calls in flight; see BASELINE). */
export function withRatios(cells: readonly Cell[]): Cell[] {
  const key = (c: CellKey) => `${c.broker}/${c.kind}/${c.devices}/${c.concurrency}`;
  const byKey = new Map(cells.map((c) => [key(c), c]));
  return cells.map((c) => {
    const base = BASELINE[c.kind] && byKey.get(key({ ...c, kind: BASELINE[c.kind]! }));
    const out: Cell = { ...c };
    delete out.ratio;
    delete out.cpuRatio;
    if (!base) return out;
    if (base.callsPerSecond > 0) out.ratio = c.callsPerSecond / base.callsPerSecond;
    if (c.cpuUsPerCall !== null && base.cpuUsPerCall !== null && base.cpuUsPerCall > 0) out.cpuRatio = c.cpuUsPerCall / base.cpuUsPerCall;
    return out;
  });
}

/** The summary ratios of some cells (already through withRatios). */
export function ratiosOf(cells: readonly Cell[]): Ratios {
  const values = (kind: RowKind, field: "ratio" | "cpuRatio") => cells.filter((c) => c.kind === kind && c[field] !== undefined).map((c) => c[field]!);
  return {
    engineVsFloor: minOrNull(values("engine", "ratio")),
    engineColocatedVsFloor: minOrNull(values("engine-colocated", "ratio")),
    httpVsBare: minOrNull(values("http", "ratio")),
    tencentVsBare: minOrNull(values("tencent", "ratio")),
    earlyVsEngine: spread(values("engine-early", "ratio")),
    engineCpuVsFloor: maxOrNull(values("engine", "cpuRatio")),
    engineColocatedCpuVsFloor: maxOrNull(values("engine-colocated", "cpuRatio")),
    httpCpuVsBare: maxOrNull(values("http", "cpuRatio")),
    tencentCpuVsBare: maxOrNull(values("tencent", "cpuRatio")),
    earlyCpuVsEngine: spread(values("engine-early", "cpuRatio")),
    colocatedMqttCpuVsInproc: spread(values("colocated-mqtt", "cpuRatio")),
  };
}

export function buildReport(r: {
  mode: Report["mode"];
  settings: Record<string, unknown>;
  machine: Report["machine"];
  cells: Cell[];
  memory: MemoryResult[];
  timeouts: TimeoutRow[];
  ui: UiIngestResult | null;
  warnings: Record<string, number>;
  elapsedS: number;
  phaseSeconds?: Record<string, number>;
  fanout?: FanoutResult | null;
}): Report {
  const table = withRatios(r.cells).sort(
    (a, b) =>
      a.broker.localeCompare(b.broker) ||
      ROW_ORDER.indexOf(a.kind) - ROW_ORDER.indexOf(b.kind) ||
      a.devices - b.devices ||
      a.concurrency - b.concurrency,
  );
  const brokers = [...new Set(table.map((c) => c.broker))];
  const httpRates = table.filter((c) => c.kind === "http").map((c) => c.callsPerSecond);
  const mem = r.memory.find((m) => m.broker === "embedded");
  const tmo = r.timeouts.find((t) => t.broker === "embedded");
  return {
    date: new Date().toISOString(),
    mode: r.mode,
    elapsedS: r.elapsedS,
    phaseSeconds: r.phaseSeconds ?? {},
    machine: r.machine,
    settings: r.settings,
    ratios: {
      ...ratiosOf(table),
      fanoutVsFloor: r.fanout?.fanoutVsFloor ?? null,
      byBroker: Object.fromEntries(brokers.map((b) => [b, ratiosOf(table.filter((c) => c.broker === b))])),
    },
    roundSpread: roundSpreadOf(table),
    httpCallsPerSecond: httpRates.length ? Math.max(...httpRates) : null,
    rssBytesPer1000Devices: mem ? Math.round(mem.bytesPerDevice * 1000) : null,
    hubBytesPerDevice: mem?.baseline
      ? {
          heap: mem.heapBytesPerDevice! - mem.baseline.heapBytesPerDevice!,
          settledRss: mem.settledBytesPerDevice! - mem.baseline.settledBytesPerDevice!,
        }
      : null,
    settledRssWithDevices: mem?.settledRssAfter ?? null,
    serverRssWithDevices: r.memory.find((m) => m.broker === "server")?.rssAfter ?? null,
    timeoutLatenessP99Ms: tmo ? tmo.byEvents.p99 : null,
    timeoutLatenessWallP99Ms: tmo ? tmo.byWallClock.p99 : null,
    timeoutFloorP99Ms: tmo?.floor ? tmo.floor.p99 : null,
    uiMessagesPerSecond: r.ui?.messagesPerSecond ?? null,
    uiLongestTaskMs: r.ui?.longTasks.maxMs ?? null,
    memory: r.memory,
    timeouts: r.timeouts,
    ui: r.ui,
    fanout: r.fanout ?? null,
    warnings: r.warnings,
    table,
  };
}

const orDash = (b: number | null) => (b === null ? "-" : fmtBytes(b));
const ratioText = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(2));
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const rangeText = (r: [number, number] | null, fmt: (x: number) => string = ratioText) => (r ? `${fmt(r[0])} – ${fmt(r[1])}` : "-");

/** CPU microseconds: 1234 → "1234", 98.76 → "98.8", 7.654 → "7.65". */
export function fmtUs(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/**
 * CPU per call of every cell side by side: broker × devices × calls in flight, a column per row
 * kind (median over rounds, min – max), then the CPU ratios of the cells to their baselines.
 */
export function cpuSummary(table: readonly Cell[]): string[] {
  const measured = table.filter((c) => c.cpuUsPerCall !== null);
  if (measured.length === 0) return [];
  const kinds = ROW_ORDER.filter((k) => measured.some((c) => c.kind === k));
  const groups = new Map<string, Cell[]>();
  for (const c of measured) {
    const g = `${c.broker}/${c.devices}/${c.concurrency}`;
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const rows = [...groups.values()].map((cells) => {
    const of = (k: RowKind) => cells.find((c) => c.kind === k);
    return [
      cells[0]!.broker,
      String(cells[0]!.devices),
      String(cells[0]!.concurrency),
      ...kinds.map((k) => {
        const c = of(k);
        if (!c) return "";
        return c.cpuRounds.length > 1 ? `${fmtUs(c.cpuUsPerCall)} (${rangeText(c.cpuUsPerCallSpread, fmtUs)})` : fmtUs(c.cpuUsPerCall);
      }),
      kinds
        .map((k) => of(k))
        .filter((c): c is Cell => c?.cpuRatio !== undefined)
        .map((c) => `${c.kind} ${ratioText(c.cpuRatio)}`)
        .join(" · "),
    ];
  });
  return [
    "### CPU µs per call: median over rounds (min – max), all the cell's processes but autocannon",
    "",
    markdownTable(["broker", "devices", "in flight", ...kinds, "CPU ÷ baseline"], rows),
    "",
  ];
}

/** The tables as Markdown on stdout (docs/benchmarks.md pastes them as they are). */
export function printReport(rep: Report): void {
  const out: string[] = [];
  const m = rep.machine;
  out.push(
    `## rrpc-hub bench (${rep.mode}), ${rep.date}`,
    "",
    `${m.cpu} × ${m.cores}, ${fmtBytes(m.memoryBytes)}, Node ${m.node}, ${m.os}; load average ${m.loadAverageBefore.toFixed(2)} before, ${m.loadAverageAfter.toFixed(2)} after`,
    "",
  );
  for (const broker of [...new Set(rep.table.map((c) => c.broker))]) {
    out.push(`### ${broker === "embedded" ? "Embedded broker (aedes)" : "Mosquitto"}`, "");
    const rows = rep.table
      .filter((c) => c.broker === broker)
      .map((c) => [
        c.kind,
        String(c.devices),
        String(c.concurrency),
        fmtRate(c.callsPerSecond),
        c.rounds.length > 1 ? rangeText(c.callsPerSecondSpread, fmtRate) : "",
        fmtMs(c.p50),
        fmtMs(c.p95),
        fmtMs(c.p99),
        c.ratio === undefined ? "" : `${ratioText(c.ratio)} × ${BASELINE[c.kind]}`,
        fmtUs(c.cpuUsPerCall),
        c.cpuRounds.length > 1 ? rangeText(c.cpuUsPerCallSpread, fmtUs) : "",
        c.cpuRatio === undefined ? "" : `${ratioText(c.cpuRatio)} × ${BASELINE[c.kind]}`,
        Object.entries(c.cpuByRole)
          .map(([role, us]) => `${role} ${fmtUs(us)}`)
          .join(" · "),
        c.loadGenCpuUsPerCall === null ? "" : fmtUs(c.loadGenCpuUsPerCall),
        c.failures ? String(c.failures) : "",
      ]);
    out.push(
      markdownTable(
        [
          "row",
          "devices",
          "in flight",
          "calls/s",
          "calls/s min – max",
          "p50 ms",
          "p95 ms",
          "p99 ms",
          "ratio",
          "CPU µs/call",
          "CPU min – max",
          "CPU ratio",
          "CPU µs/call by process",
          "autocannon µs/call",
          "failures",
        ],
        rows,
      ),
      "",
    );
  }
  const r = rep.ratios;
  out.push(...cpuSummary(rep.table));
  out.push(
    "### Summary",
    "",
    markdownTable(
      ["figure", "value"],
      [
        ["engine ÷ floor, calls/s, lowest", ratioText(r.engineVsFloor)],
        ["engine-colocated ÷ floor, calls/s, lowest", ratioText(r.engineColocatedVsFloor)],
        ["http ÷ bare-http, calls/s, lowest", ratioText(r.httpVsBare)],
        ["tencent ÷ bare-http, calls/s, lowest", ratioText(r.tencentVsBare)],
        ["engine-early ÷ engine, calls/s, lowest – highest (what answering after the commit costs)", rangeText(r.earlyVsEngine)],
        ...Object.entries(r.byBroker).map(([b, x]) => [
          `  ${b}: engine / colocated / http`,
          `${ratioText(x.engineVsFloor)} / ${ratioText(x.engineColocatedVsFloor)} / ${ratioText(x.httpVsBare)}`,
        ]),
        ["engine ÷ floor, CPU µs/call, highest (goal ≤ 1.15)", ratioText(r.engineCpuVsFloor)],
        ["engine-colocated ÷ floor, CPU µs/call, highest", ratioText(r.engineColocatedCpuVsFloor)],
        ["http ÷ bare-http, CPU µs/call, highest", ratioText(r.httpCpuVsBare)],
        ["tencent ÷ bare-http, CPU µs/call, highest", ratioText(r.tencentCpuVsBare)],
        ["engine-early ÷ engine, CPU µs/call, lowest – highest", rangeText(r.earlyCpuVsEngine)],
        [
          "colocated-mqtt ÷ engine-colocated, CPU µs/call, lowest – highest (what the in-process transport saves)",
          rangeText(r.colocatedMqttCpuVsInproc),
        ],
        ...Object.entries(r.byBroker).map(([b, x]) => [
          `  ${b}: CPU engine / colocated / http / tencent`,
          [x.engineCpuVsFloor, x.engineColocatedCpuVsFloor, x.httpCpuVsBare, x.tencentCpuVsBare].map(ratioText).join(" / "),
        ]),
        [
          "spread between rounds, (max − min) ÷ median, median over the cells: calls/s / CPU µs/call",
          rep.roundSpread
            ? `${pct(rep.roundSpread.callsPerSecond)} / ${rep.roundSpread.cpuUsPerCall === null ? "-" : pct(rep.roundSpread.cpuUsPerCall)} (${rep.roundSpread.cells} cells)`
            : "-",
        ],
        ["best http calls/s", rep.httpCallsPerSecond === null ? "-" : fmtRate(rep.httpCallsPerSecond)],
        [
          "batch to 10,000 devices, POST → done, median (goal ≤ 2 s)",
          rep.fanout?.devices10000Seconds == null
            ? "-"
            : `${rep.fanout.devices10000Seconds.toFixed(2)} s (rounds ${rep.fanout.postToDoneSeconds.map((s) => s.toFixed(2)).join(", ")})`,
        ],
        [
          "batch ÷ floor, same round trips, median (goal ≥ 0.8)",
          rep.fanout ? `${ratioText(rep.fanout.fanoutVsFloor)} (floor ${rep.fanout.floorSeconds.map((s) => s.toFixed(2)).join(", ")} s)` : "-",
        ],
        ["RSS per 1,000 idle devices (embedded, broker + hub)", rep.rssBytesPer1000Devices === null ? "-" : fmtBytes(rep.rssBytesPer1000Devices)],
        [
          "hub's own cost per idle device (embedded − bare aedes: heap / settled RSS)",
          rep.hubBytesPerDevice ? `${fmtBytes(rep.hubBytesPerDevice.heap)} / ${fmtBytes(rep.hubBytesPerDevice.settledRss)}` : "-",
        ],
        [
          "broker + hub RSS with the idle devices (embedded, settled)",
          rep.settledRssWithDevices === null ? "-" : fmtBytes(rep.settledRssWithDevices),
        ],
        [
          "production server RSS with the idle devices (npm start, as is)",
          rep.serverRssWithDevices === null ? "-" : fmtBytes(rep.serverRssWithDevices),
        ],
        [
          "timeout lateness p99 (embedded, trace / caller / bare timers)",
          `${fmtMs(rep.timeoutLatenessP99Ms ?? NaN)} / ${fmtMs(rep.timeoutLatenessWallP99Ms ?? NaN)} / ${fmtMs(rep.timeoutFloorP99Ms ?? NaN)} ms`,
        ],
        [
          "live timeline in Chromium, messages/s ingested (÷ offered; longest task)",
          rep.ui
            ? `${fmtRate(rep.ui.messagesPerSecond)} (${ratioText(rep.ui.ratio)} × ${fmtRate(rep.ui.offeredPerSecond)}; ${rep.uiLongestTaskMs?.toFixed(0) ?? "-"} ms)`
            : "-",
        ],
      ],
    ),
    "",
    "### Memory: idle devices connected and subscribed",
    "",
    markdownTable(
      [
        "broker",
        "devices",
        "broker+hub RSS before",
        "after",
        "per device",
        "settled before",
        "after",
        "per device",
        "heap per device",
        "device processes RSS",
      ],
      rep.memory
        .flatMap((x) => (x.baseline ? [x.baseline, x] : [x]))
        .map((x) => [
          x.broker === "aedes" ? "bare aedes (no hub)" : x.broker === "server" ? "production server" : x.broker,
          String(x.devices),
          fmtBytes(x.rssBefore),
          fmtBytes(x.rssAfter),
          fmtBytes(x.bytesPerDevice),
          orDash(x.settledRssBefore),
          orDash(x.settledRssAfter),
          orDash(x.settledBytesPerDevice),
          orDash(x.heapBytesPerDevice),
          fmtBytes(x.deviceProcessesRss),
        ]),
    ),
    "",
    "### Timeout precision: calls timing out at once (silent devices), ms past the deadline",
    "",
    markdownTable(
      [
        "broker",
        "calls",
        "timeoutMs",
        "trace p50",
        "trace p99",
        "trace max",
        "caller p50",
        "caller p99",
        "caller max",
        "bare timers p50",
        "bare timers p99",
        "not timeout",
      ],
      rep.timeouts.map((t) => [
        t.broker,
        String(t.calls),
        String(t.timeoutMs),
        fmtMs(t.byEvents.p50),
        fmtMs(t.byEvents.p99),
        fmtMs(t.byEvents.max),
        fmtMs(t.byWallClock.p50),
        fmtMs(t.byWallClock.p99),
        fmtMs(t.byWallClock.max),
        fmtMs(t.floor?.p50 ?? NaN),
        fmtMs(t.floor?.p99 ?? NaN),
        String(t.otherOutcomes),
      ]),
    ),
    "",
  );
  if (rep.ui) {
    const u = rep.ui;
    out.push(
      "### Live timeline in Chromium: a device repeating its replies at a clock-paced rate",
      "",
      markdownTable(
        [
          "browser",
          "calls (rows)",
          "flooded calls",
          "offered/s",
          "sent",
          "counted",
          "seconds",
          "messages/s",
          "÷ offered",
          "long tasks",
          "longest ms",
          "CPU ms",
          "complete",
        ],
        [
          [
            u.browser,
            String(u.calls),
            String(u.floodCalls),
            fmtRate(u.offeredPerSecond),
            String(u.sent),
            String(u.counted),
            u.elapsedS.toFixed(2),
            fmtRate(u.messagesPerSecond),
            ratioText(u.ratio),
            String(u.longTasks.count),
            u.longTasks.maxMs.toFixed(0),
            Object.entries(u.cpuMs)
              .filter(([, ms]) => ms > 0)
              .map(([role, ms]) => `${role} ${ms.toFixed(0)}`)
              .join(" · "),
            u.complete ? "yes" : "NO",
          ],
        ],
      ),
      "",
    );
  }
  const warnings = Object.entries(rep.warnings);
  if (warnings.length) {
    out.push("### Process warnings in the child processes", "", ...warnings.map(([w, n]) => `- ${n} × ${w}`), "");
  }
  process.stdout.write(out.join("\n") + "\n");
}
