/**
 * The live view's MQTT-over-WebSocket connection and the messages between the page and the
 * worker that runs it (live.worker.ts). The same code runs in the page when there is no worker.
 */
import mqtt from "mqtt";
import { LIVE_BATCHES_TOPIC, LIVE_FILTERS } from "../rrpc/live";
import type { CallsPage } from "../rrpc/api";
import type { LiveDelta, LiveStore } from "./live-store";

export type LiveConnectOptions = { url: string; clientId: string; username?: string; password?: string };

/** What the connection tells the page. `subscribed`: the broker granted the live filters (backfill may start). */
export type LiveEvent =
  { type: "connect" } | { type: "subscribed" } | { type: "reconnect" } | { type: "offline" } | { type: "error"; message: string; code?: number };

/** Page → worker. */
export type ToWorker =
  { type: "connect"; options: LiveConnectOptions } | { type: "end" } | { type: "calls"; page: CallsPage; kind: "latest" | "older" };

/** Worker → page. `topic`: a message of a topic the page hears as is (FORWARDED_TOPICS). */
export type FromWorker =
  { type: "event"; event: LiveEvent } | { type: "delta"; delta: LiveDelta } | { type: "topic"; topic: string; payload: Uint8Array };

/** Topics whose messages also reach the page as they are: batches' progress (a few a second at most). */
export const FORWARDED_TOPICS: ReadonlySet<string> = new Set([LIVE_BATCHES_TOPIC]);

/**
 * Connects, subscribes to every RRPC request and reply and the hub's feed, and ingests each
 * message into `store`; `changed` is called after each. Returns the function that ends it.
 */
export function connectLive(
  o: LiveConnectOptions,
  store: LiveStore,
  on: (e: LiveEvent) => void,
  changed: () => void,
  onTopic: (topic: string, payload: Uint8Array) => void = () => {},
): () => void {
  const client = mqtt.connect(o.url, {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
  });
  client.on("connect", () => {
    on({ type: "connect" });
    client.subscribe([...LIVE_FILTERS], { qos: 0 }, (err) => {
      if (!err) on({ type: "subscribed" });
    });
  });
  client.on("reconnect", () => on({ type: "reconnect" }));
  client.on("offline", () => on({ type: "offline" }));
  client.on("error", (err) => {
    const code = (err as { code?: unknown }).code;
    on({ type: "error", message: err.message, ...(typeof code === "number" ? { code } : {}) });
  });
  client.on("message", (topic, payload) => {
    if (FORWARDED_TOPICS.has(topic)) return onTopic(topic, payload);
    store.ingest(topic, payload);
    changed();
  });
  return () => void client.end(true);
}
