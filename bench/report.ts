/** The benchmark's results: ratios computed inside the run, tables, bench-results.json. */
import type { MachineInfo } from "./proc";
import { fmtBytes, fmtMs, fmtRate, markdownTable } from "./stats";
import type { TimeoutResult } from "./timeout-precision";
import type { UiIngestResult } from "./ui-ingest";

export type BrokerKind = "embedded" | "mosquitto";

/**
 * floor             bare MQTT.js requester, no hub (what MQTT costs)
 * engine            Hub.call() in its own process, through the same broker and devices
 * engine-early      engine, answering each call as it ends instead of once it is committed: what durable answers cost
 * engine-colocated  Hub.call() in the embedded broker's process (the production layout)
 * bare-http         node:http + Hub.call() (+ embedded broker) in one process, autocannon load
 * http              POST /api/calls on the production server, autocannon load
 * tencent           (reserved) calls through the Tencent Cloud API-compatible endpoint
 */
export type RowKind = "floor" | "engine" | "engine-early" | "engine-colocated" | "bare-http" | "http" | "tencent";
export const ROW_ORDER: readonly RowKind[] = ["floor", "engine", "engine-early", "engine-colocated", "bare-http", "http", "tencent"];
/** What each row is divided by, cell by cell (same broker, devices, calls in flight). */
export const BASELINE: Partial<Record<RowKind, RowKind>> = {
  engine: "floor",
  "engine-early": "engine",
  "engine-colocated": "floor",
  http: "bare-http",
  tencent: "bare-http",
};

export type Cell = {
  broker: BrokerKind;
  kind: RowKind;
  devices: number;
  concurrency: number;
  callsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  calls: number;
  failures: number;
  failureKinds: Record<string, number>;
  /** calls/s of each round measured; the cell's figures are the best round's. */
  rounds: number[];
  /** callsPerSecond ÷ the baseline cell's (see BASELINE). */
  ratio?: number;
};

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

type Ratios = {
  engineVsFloor: number | null;
  engineColocatedVsFloor: number | null;
  httpVsBare: number | null;
  tencentVsBare: number | null;
  /** engine-early ÷ engine, lowest and highest: what answering only after the commit costs. */
  earlyVsEngine: [number, number] | null;
};

export type Report = {
  date: string;
  mode: "quick" | "full";
  elapsedS: number;
  machine: MachineInfo & { loadAverageBefore: number; loadAverageAfter: number };
  settings: Record<string, unknown>;
  /** Each the lowest over every cell measured (all brokers, device counts, concurrencies). */
  ratios: Ratios & { byBroker: Partial<Record<BrokerKind, Ratios>> };
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
  /** MQTT messages a second the dashboard's live timeline ingested in Chromium under a clock-paced flood (bench/ui-ingest.ts). */
  uiMessagesPerSecond: number | null;
  memory: MemoryResult[];
  timeouts: TimeoutRow[];
  ui: UiIngestResult | null;
  /** Process warnings of the child processes (hub, requesters, devices), with counts. */
  warnings: Record<string, number>;
  table: Cell[];
};

const minOrNull = (xs: number[]) => (xs.length ? Math.min(...xs) : null);

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
}): Report {
  const key = (c: Pick<Cell, "broker" | "kind" | "devices" | "concurrency">) => `${c.broker}/${c.kind}/${c.devices}/${c.concurrency}`;
  const byKey = new Map(r.cells.map((c) => [key(c), c]));
  const table = r.cells
    .map((c) => {
      const base = BASELINE[c.kind] && byKey.get(key({ ...c, kind: BASELINE[c.kind]! }));
      return base && base.callsPerSecond > 0 ? { ...c, ratio: c.callsPerSecond / base.callsPerSecond } : { ...c };
    })
    .sort(
      (a, b) =>
        a.broker.localeCompare(b.broker) ||
        ROW_ORDER.indexOf(a.kind) - ROW_ORDER.indexOf(b.kind) ||
        a.devices - b.devices ||
        a.concurrency - b.concurrency,
    );
  const ratiosOf = (cells: Cell[]): Ratios => {
    const of = (kind: RowKind) => minOrNull(cells.filter((c) => c.kind === kind && c.ratio !== undefined).map((c) => c.ratio!));
    const early = cells.filter((c) => c.kind === "engine-early" && c.ratio !== undefined).map((c) => c.ratio!);
    return {
      engineVsFloor: of("engine"),
      engineColocatedVsFloor: of("engine-colocated"),
      httpVsBare: of("http"),
      tencentVsBare: of("tencent"),
      earlyVsEngine: early.length ? [Math.min(...early), Math.max(...early)] : null,
    };
  };
  const brokers = [...new Set(table.map((c) => c.broker))];
  const httpRates = table.filter((c) => c.kind === "http").map((c) => c.callsPerSecond);
  const mem = r.memory.find((m) => m.broker === "embedded");
  const tmo = r.timeouts.find((t) => t.broker === "embedded");
  return {
    date: new Date().toISOString(),
    mode: r.mode,
    elapsedS: r.elapsedS,
    machine: r.machine,
    settings: r.settings,
    ratios: { ...ratiosOf(table), byBroker: Object.fromEntries(brokers.map((b) => [b, ratiosOf(table.filter((c) => c.broker === b))])) },
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
    uiMessagesPerSecond: r.ui?.messagesPerSecond ?? null,
    memory: r.memory,
    timeouts: r.timeouts,
    ui: r.ui,
    warnings: r.warnings,
    table,
  };
}

const orDash = (b: number | null) => (b === null ? "-" : fmtBytes(b));
const ratioText = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(2));

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
        fmtMs(c.p50),
        fmtMs(c.p95),
        fmtMs(c.p99),
        c.ratio === undefined ? "" : `${ratioText(c.ratio)} × ${BASELINE[c.kind]}`,
        c.rounds.length > 1 ? c.rounds.map(fmtRate).join(" / ") : "",
        c.failures ? String(c.failures) : "",
      ]);
    out.push(
      markdownTable(["row", "devices", "in flight", "calls/s", "p50 ms", "p95 ms", "p99 ms", "ratio", "rounds calls/s", "failures"], rows),
      "",
    );
  }
  const r = rep.ratios;
  out.push(
    "### Summary",
    "",
    markdownTable(
      ["figure", "value"],
      [
        ["engine ÷ floor, lowest", ratioText(r.engineVsFloor)],
        ["engine-colocated ÷ floor, lowest", ratioText(r.engineColocatedVsFloor)],
        ["http ÷ bare-http, lowest", ratioText(r.httpVsBare)],
        ["tencent ÷ bare-http, lowest", ratioText(r.tencentVsBare)],
        [
          "engine-early ÷ engine, lowest – highest (what answering after the commit costs)",
          r.earlyVsEngine ? `${ratioText(r.earlyVsEngine[0])} – ${ratioText(r.earlyVsEngine[1])}` : "-",
        ],
        ...Object.entries(r.byBroker).map(([b, x]) => [
          `  ${b}: engine / colocated / http`,
          `${ratioText(x.engineVsFloor)} / ${ratioText(x.engineColocatedVsFloor)} / ${ratioText(x.httpVsBare)}`,
        ]),
        ["best http calls/s", rep.httpCallsPerSecond === null ? "-" : fmtRate(rep.httpCallsPerSecond)],
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
          "timeout lateness p99 (embedded, trace / caller)",
          `${fmtMs(rep.timeoutLatenessP99Ms ?? NaN)} / ${fmtMs(rep.timeoutLatenessWallP99Ms ?? NaN)} ms`,
        ],
        [
          "live timeline in Chromium, messages/s ingested (÷ offered)",
          rep.ui ? `${fmtRate(rep.ui.messagesPerSecond)} (${ratioText(rep.ui.ratio)} × ${fmtRate(rep.ui.offeredPerSecond)})` : "-",
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
      ["broker", "calls", "timeoutMs", "trace p50", "trace p99", "trace max", "caller p50", "caller p99", "caller max", "not timeout"],
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
        ["browser", "calls (rows)", "offered/s", "sent", "counted", "seconds", "messages/s", "÷ offered", "complete"],
        [
          [
            u.browser,
            String(u.calls),
            fmtRate(u.offeredPerSecond),
            String(u.sent),
            String(u.counted),
            u.elapsedS.toFixed(2),
            fmtRate(u.messagesPerSecond),
            ratioText(u.ratio),
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
