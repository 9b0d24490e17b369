/**
 * Child process: what runs inside the hub's process. Optionally the embedded aedes broker
 * (lib/server/broker.ts, as the production runtime starts it), optionally the hub (Hub +
 * Store on a temp SQLite file) connected to it or to an external broker, optionally the bare
 * HTTP baseline. Drives Hub.call() load and the timeout-precision test in-process.
 */
import type { Server } from "node:http";
import { startEmbeddedBroker, type EmbeddedBroker } from "../lib/server/broker";
import { isObserver } from "../lib/server/runtime";
import { startBareHttp } from "./bare-http";
import { engineLoad, startBenchHub, type BenchHub, type EngineRun } from "./engine-load";
import { serve } from "./proc";
import { measureTimeouts, type TimeoutRun } from "./timeout-precision";

let broker: EmbeddedBroker | null = null;
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
  /** Without `url` the hub uses this process's embedded broker, as in production (route + delivered hooks). */
  async startHub(p: { url?: string } = {}): Promise<void> {
    if (bench) throw new Error("hub already started");
    if (p.url) bench = await startBenchHub(p.url);
    else if (broker) bench = await startBenchHub(`mqtt://127.0.0.1:${broker.tcpPort}`, broker);
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
});
