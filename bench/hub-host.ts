/**
 * Child process: what runs inside the hub's process. Optionally the embedded aedes broker
 * (lib/server/broker.ts, as the production runtime starts it), optionally the hub (Hub +
 * Store on a temp SQLite file) connected to it or to an external broker, optionally the bare
 * HTTP baseline. Drives Hub.call() load and the timeout-precision test in-process.
 */
import type { Server } from "node:http";
import { createServer, type Server as NetServer } from "node:net";
import { Aedes } from "aedes";
import { startEmbeddedBroker, type EmbeddedBroker } from "../lib/server/broker/embedded";
import { isObserver } from "../lib/server/runtime/runtime";
import { startBareHttp } from "./bare-http";
import { engineLoad, startBenchHub, type BenchHub, type EngineRun } from "./engine-load";
import { serve } from "./proc";
import { measureTimeouts, type TimeoutRun } from "./timeout-precision";
import { LISTEN_BACKLOG } from "../lib/server/core/net";

let broker: EmbeddedBroker | null = null;
let bare: { aedes: Aedes; tcp: NetServer } | null = null;
let bench: BenchHub | null = null;
let http: Server | null = null;

function theHub() {
  if (!bench) throw new Error("no hub: call startHub first");
  return bench.hub;
}

const api = {
  async startBroker(): Promise<{ port: number }> {
    broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver });
    return { port: broker.tcpPort };
  },
  /** aedes alone, as the reference broker measurements did (TCP no-delay, no hooks, no hub): the broker's own cost. */
  async startBareBroker(): Promise<{ port: number }> {
    const aedes = await Aedes.createBroker();
    const tcp = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
    await new Promise<void>((r) => tcp.listen({ port: 0, host: "127.0.0.1", backlog: LISTEN_BACKLOG }, () => r()));
    bare = { aedes, tcp };
    return { port: (tcp.address() as { port: number }).port };
  },
  /** Full garbage collections (the process runs with --expose-gc), then RSS and the JavaScript heap (+ external buffers): steadier than RSS alone. */
  settledMemory(): { rss: number; heap: number } {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) for (let i = 0; i < 3; i++) gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed + m.external };
  },
  /**
   * Without `url` the hub uses this process's embedded broker, as in production (in-process,
   * route + delivered hooks); `transport: "mqtt"` connects it to that broker with MQTT.js instead.
   */
  async startHub(p: { url?: string; answerBeforeCommit?: boolean; transport?: "inproc" | "mqtt" } = {}): Promise<void> {
    if (bench) throw new Error("hub already started");
    if (p.url) bench = await startBenchHub(p.url, undefined, { answerBeforeCommit: p.answerBeforeCommit });
    else if (broker) bench = await startBenchHub(`mqtt://127.0.0.1:${broker.tcpPort}`, broker, { transport: p.transport });
    else throw new Error("no broker to connect to");
  },
  async stopHub(): Promise<void> {
    await api.closeHttp();
    await bench?.stop();
    bench = null;
  },
  load: (r: EngineRun) => engineLoad(theHub(), r),
  async listenHttp(): Promise<{ port: number }> {
    const s = await startBareHttp(theHub());
    http = s.server;
    return { port: s.port };
  },
  async closeHttp(): Promise<void> {
    const s = http;
    http = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  },
  timeouts: (r: TimeoutRun) => measureTimeouts(theHub(), r),
};
export type HubHostApi = typeof api;

serve(api, async () => {
  await api.stopHub();
  await broker?.close();
  if (bare) {
    bare.tcp.close();
    await new Promise<void>((r) => bare!.aedes.close(() => r()));
  }
});
