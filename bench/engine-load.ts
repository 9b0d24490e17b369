/** A hub as the benchmarks run it, and closed-loop Hub.call() load on it (the `engine` rows). */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { EmbeddedBroker } from "../lib/server/broker/embedded";
import { Hub, type HubOptions } from "../lib/server/calls/hub";
import { Store } from "../lib/server/store/store";
import { SqliteCallStore } from "../lib/server/store/call-store";
import { tempDir } from "../lib/server/testing/servers";
import { benchPayloadText, deviceNames } from "./common";
import { closedLoop, runCount, WARMUP_IN_FLIGHT, type LoadResult, type LoadSpec } from "./load";

export type BenchHub = { hub: Hub; store: Store; stop(): Promise<void> };

/**
 * A Hub with a real Store on a temp SQLite file, connected to `url`. Pass the embedded broker
 * when it runs in this process (production layout: offline/not_subscribed and delivered hooks).
 */
export async function startBenchHub(
  url: string,
  broker?: EmbeddedBroker,
  o: { answerBeforeCommit?: boolean; transport?: HubOptions["transport"] } = {},
): Promise<BenchHub> {
  const dir = tempDir("rrpc-bench-");
  const store = new Store(join(dir, "rrpc.db"));
  const hub = new Hub({
    store: new SqliteCallStore(store),
    mqttUrl: url,
    broker,
    maxInFlight: 100_000,
    maxPayloadBytes: 128 * 1024,
    defaultTimeoutMs: 4000,
    answerBeforeCommit: o.answerBeforeCommit,
    transport: o.transport,
  });
  await hub.start();
  if (!hub.isReady) throw new Error(`the hub could not connect to ${url}`);
  return {
    hub,
    store,
    async stop() {
      await hub.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type EngineRun = { productId: string; devices: number; spec: LoadSpec; timeoutMs: number; payloadBytes?: number; warmupCalls?: number };

export async function engineLoad(hub: Hub, r: EngineRun): Promise<LoadResult> {
  const names = deviceNames(r.devices);
  const payload = Buffer.from(benchPayloadText(r.payloadBytes));
  const call = async (seq: number) => {
    const c = await hub.call({ productId: r.productId, deviceName: names[seq % names.length]!, payload, timeoutMs: r.timeoutMs });
    return c.status === "success" ? null : c.status;
  };
  if (r.warmupCalls) await runCount(Math.max(r.spec.concurrency, WARMUP_IN_FLIGHT), r.warmupCalls, call);
  return closedLoop(r.spec, call);
}
