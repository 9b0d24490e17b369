/**
 * Child process: the floor. A bare MQTT.js requester (no hub, no store, no timers): publish a
 * request at QoS 0, match the echoed reply by processId in a Map. What MQTT itself costs.
 */
import type { MqttClient } from "mqtt";
import { formatProcessId, PROCESS_ID_MIN } from "../lib/rrpc/process-id";
import { requestTopic } from "../lib/rrpc/topics";
import { connectMqtt, endMqtt } from "../lib/server/broker/mqtt-client";
import { benchPayloadText, deviceNames } from "./common";
import { closedLoop, runCount, WARMUP_IN_FLIGHT, type LoadResult, type LoadSpec } from "./load";
import { serve } from "./proc";

/** A call with no reply after this long is counted as lost (QoS 0 may drop). */
const LOST_AFTER_MS = 5000;

let client: MqttClient | null = null;
let nextId = PROCESS_ID_MIN;
const pending = new Map<string, { t0: number; done: (failure: string | null) => void }>();

function onReply(topic: string): void {
  const processId = topic.slice(topic.lastIndexOf("/") + 1);
  const p = pending.get(processId);
  if (!p) return;
  pending.delete(processId);
  p.done(null);
}

const sweeper = setInterval(() => {
  const old = performance.now() - LOST_AFTER_MS;
  for (const [id, p] of pending) {
    if (p.t0 > old) break; // insertion order = age order
    pending.delete(id);
    p.done("lost");
  }
}, 250);
sweeper.unref();

export type FloorRun = { productId: string; devices: number; spec: LoadSpec; payloadBytes?: number; warmupCalls?: number };

const api = {
  async connect(p: { url: string; productId: string }): Promise<void> {
    const c = connectMqtt(p.url, { clientId: `bench-floor-${process.pid}`, clean: true, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      c.once("connect", () => resolve());
      c.once("error", reject);
    });
    await c.subscribeAsync(`$rrpc/txd/${p.productId}/+/+`, { qos: 0 });
    c.on("message", onReply);
    client = c;
  },
  async run(r: FloorRun): Promise<LoadResult> {
    const c = client;
    if (!c) throw new Error("not connected");
    const names = deviceNames(r.devices);
    const payload = Buffer.from(benchPayloadText(r.payloadBytes));
    const call = (seq: number) =>
      new Promise<string | null>((done) => {
        const processId = formatProcessId(nextId++);
        pending.set(processId, { t0: performance.now(), done });
        c.publish(requestTopic(r.productId, names[seq % names.length]!, processId), payload, { qos: 0 });
      });
    if (r.warmupCalls) await runCount(Math.max(r.spec.concurrency, WARMUP_IN_FLIGHT), r.warmupCalls, call);
    return closedLoop(r.spec, call);
  },
  /** `calls` round trips, call i to device i (mod `devices`), `concurrency` at a time: the floor of a batch. Seconds from first publish to last reply. */
  async fanout(r: { productId: string; devices: number; calls: number; concurrency: number }): Promise<{ seconds: number; lost: number }> {
    const c = client;
    if (!c) throw new Error("not connected");
    const names = deviceNames(r.devices);
    const payload = Buffer.from(benchPayloadText());
    let lost = 0;
    const t0 = performance.now();
    await runCount(
      r.concurrency,
      r.calls,
      (seq) =>
        new Promise<string | null>((done) => {
          const processId = formatProcessId(nextId++);
          pending.set(processId, { t0: performance.now(), done: (f) => (f && lost++, done(f)) });
          c.publish(requestTopic(r.productId, names[seq % names.length]!, processId), payload, { qos: 0 });
        }),
    );
    return { seconds: (performance.now() - t0) / 1000, lost };
  },
  async close(): Promise<void> {
    if (client) await endMqtt(client, true);
    client = null;
  },
};
export type FloorRequesterApi = typeof api;

serve(api, api.close);
