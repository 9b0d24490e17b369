import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { TERMINAL_STATUSES, type TerminalStatus } from "../../rrpc/types";
import { clock as systemClock, type CallSource, type Clock } from "../core/call";
import type { EmbeddedBroker } from "../broker/embedded";
import type { Hub } from "../calls/hub";
import type { CallStore } from "../store/call-store";

/** Round trips from 0.1 ms (a device on loopback) to 300 s (the longest timeout), in seconds. */
export const CALL_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
/** From a call's end to its outcome committed to the SQLite file (group commit every 25 ms, more under load), in seconds. */
export const COMMIT_LAG_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SOURCES: readonly CallSource[] = ["api", "dashboard", "tencent", "batch"];
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

/** What the metrics watch: the hub's calls and counters, the store's commits, the embedded broker's clients. */
export type MetricsSources = {
  hub: Hub;
  store: CallStore;
  broker: EmbeddedBroker | null;
  /** Measures the store's commit lag; tests may drive it. */
  clock?: Clock;
};

/**
 * One runtime's Prometheus metrics, in a registry of its own (never prom-client's global one:
 * tests run several hubs in one process).
 *
 * `batches` is the hook for the fleet/batches feature: its code counts each batch once it ends,
 * with `rt.metrics.countBatch(status)` (or `rt.metrics.batches.inc({ status })`), and the
 * counter `rrpc_batches_total{status}` appears at GET /metrics from the first batch on.
 */
export type Metrics = {
  readonly registry: Registry;
  /** `rrpc_batches_total{status}`: batches of calls (fleet feature) by how they ended. */
  readonly batches: Counter<"status">;
  countBatch(status: string, n?: number): void;
  /** `rrpc_broker_hook_decisions_total{hook,result}`: answers to an external broker's HTTP hooks (docs/scale-out.md). */
  countHookDecision(hook: "authn" | "authz", result: "allow" | "deny"): void;
  /** The text exposition format, as scrapers read it. */
  scrape(): Promise<{ contentType: string; body: string }>;
  /** Forgets every metric (the runtime stopped). */
  stop(): void;
};

export function createMetrics({ hub, store, broker, clock = systemClock }: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const calls = new Counter({
    name: "rrpc_calls_total",
    help: "Calls that ended, by terminal status and by where they came from (api: native API, dashboard, tencent: PublishRRPCMessage, batch: a batch to many devices).",
    labelNames: ["status", "source"] as const,
    registers: [registry],
  });
  // Every series exists from the start at 0, so that rate() and absent() work before the first call of a kind.
  for (const status of TERMINAL_STATUSES) for (const source of SOURCES) calls.inc({ status, source }, 0);

  const duration = new Histogram({
    name: "rrpc_call_duration_seconds",
    help: "Round trip of answered (successful) calls: request published to reply received, in seconds.",
    buckets: CALL_DURATION_BUCKETS,
    registers: [registry],
  });

  new Gauge({
    name: "rrpc_calls_in_flight",
    help: "Calls waiting for their device's reply.",
    registers: [registry],
    collect() {
      this.set(hub.inFlight);
    },
  });

  new Gauge({
    name: "rrpc_broker_connected",
    help: "1 while the hub is connected to its MQTT broker, else 0.",
    registers: [registry],
    collect() {
      this.set(hub.isReady ? 1 : 0);
    },
  });

  const replyKinds = {
    late: () => hub.counters.lateReplies,
    duplicate: () => hub.counters.duplicateReplies,
    foreign: () => hub.counters.foreignReplies,
    stray: () => hub.counters.strayReplies,
    other_hub: () => hub.counters.otherHubReplies,
  };
  new Counter({
    name: "rrpc_replies_total",
    help: "Replies that were not a call's answer: late (after the call ended), duplicate (a second answer), foreign (another device's processId), stray (an unknown processId), other_hub (a call of another hub on the same broker, handled there).",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      // The hub keeps the counts; a scrape reads them.
      this.reset();
      for (const [kind, count] of Object.entries(replyKinds)) this.inc({ kind }, count());
    },
  });

  if (broker) {
    new Gauge({
      name: "rrpc_devices_online",
      help: "Devices subscribed to their request topic on the embedded broker.",
      registers: [registry],
      collect() {
        this.set(broker.onlineDevices().length);
      },
    });
    new Gauge({
      name: "rrpc_broker_connections",
      help: "MQTT clients connected to the embedded broker (devices, live dashboards; the hub runs inside it).",
      registers: [registry],
      collect() {
        this.set((broker.aedes as unknown as { connectedClients: number }).connectedClients);
      },
    });
  }

  const commitLag = new Histogram({
    name: "rrpc_store_commit_seconds",
    help: "From a call's end to its outcome committed to the SQLite file (the hub answers only then), in seconds.",
    buckets: COMMIT_LAG_BUCKETS,
    registers: [registry],
  });
  let awaitingCommit = 0;
  new Gauge({
    name: "rrpc_store_pending_commits",
    help: "Calls that ended and whose outcome is not committed to the database yet.",
    registers: [registry],
    collect() {
      this.set(awaitingCommit);
    },
  });
  new Gauge({
    name: "rrpc_store_writable",
    help: "1 while the store can write, 0 while it cannot (new calls are refused with store_unavailable).",
    registers: [registry],
    collect() {
      this.set(store.unavailable === null ? 1 : 0);
    },
  });

  const batches = new Counter({
    name: "rrpc_batches_total",
    help: "Batches of calls (fleet operations), by how they ended.",
    labelNames: ["status"] as const,
    registers: [registry],
  });

  const hookDecisions = new Counter({
    name: "rrpc_broker_hook_decisions_total",
    help: "Answers to the external broker's HTTP hooks (POST /api/broker/authn and /authz), by hook and result; a request without the hook secret is not counted.",
    labelNames: ["hook", "result"] as const,
    registers: [registry],
  });
  for (const hook of ["authn", "authz"] as const) for (const result of ["allow", "deny"] as const) hookDecisions.inc({ hook, result }, 0);

  let stopped = false;
  hub.onUpdate(({ call, event }) => {
    // The terminal event: the one whose type is the status the call just took.
    if (stopped || event.type !== call.status || !TERMINAL.has(event.type)) return;
    calls.inc({ status: call.status as TerminalStatus, source: call.source });
    if (call.status === "success" && call.rttMs !== undefined) duration.observe(call.rttMs / 1000);
    const endedAt = clock.now();
    awaitingCommit++;
    void store.written(call).then(() => {
      awaitingCommit--;
      if (!stopped) commitLag.observe((clock.now() - endedAt) / 1000);
    });
  });

  return {
    registry,
    batches,
    countBatch(status, n = 1) {
      batches.inc({ status }, n);
    },
    countHookDecision(hook, result) {
      hookDecisions.inc({ hook, result });
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    stop() {
      stopped = true;
      registry.clear();
    },
  };
}
