/**
 * The hub on the embedded broker without an MQTT connection (inproc-transport.ts): real aedes,
 * real MQTT.js devices and dashboards, a real store. The hub's engine rules themselves are
 * tested in calls/hub.test.ts and the ACLs (a forged reply never reaches the hub) in
 * auth/broker-acl.test.ts, both on this transport when the broker is embedded.
 */
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded";
import { connectMqtt, endMqtt } from "./mqtt-client";
import { Hub, type HubOptions } from "../calls/hub";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { isObserver } from "../runtime/runtime";
import { startLiveFeed } from "../live/feed";
import { startSimDevice } from "../simulator/simulator";
import { tempDir, waitFor } from "../testing/servers";
import { LIVE_CALLS_TOPIC, type LiveCallUpdate } from "../../rrpc/live";

const P = "INPROC0001";
const bytes = (s: string) => Buffer.from(s, "utf8");
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function setup(hubOpts: Partial<HubOptions> = {}) {
  const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver });
  closers.push(() => broker.close());
  const url = `mqtt://127.0.0.1:${broker.tcpPort}`;
  const store = new Store(join(tempDir(), "rrpc.db"));
  closers.push(() => store.close());
  const hub = await startHub(broker, store, url, hubOpts);
  return { broker, url, store, hub };
}

async function startHub(broker: EmbeddedBroker, store: Store, url: string, hubOpts: Partial<HubOptions> = {}) {
  const hub = new Hub({
    store: new SqliteCallStore(store),
    mqttUrl: url,
    broker,
    maxInFlight: 100,
    maxPayloadBytes: 1024,
    defaultTimeoutMs: 4000,
    ...hubOpts,
  });
  closers.push(() => hub.stop());
  await hub.start();
  expect(hub.isReady).toBe(true);
  return hub;
}

async function client(url: string, clientId: string): Promise<MqttClient> {
  const c = connectMqtt(url, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  closers.push(() => endMqtt(c, true));
  return c;
}

const subscribe = (c: MqttClient, filter: string) => c.subscribeAsync(filter, { qos: 0 });
const connectedClients = (b: EmbeddedBroker) => (b.aedes as unknown as { connectedClients: number }).connectedClients;

describe("the hub in the embedded broker's process", () => {
  it("holds no MQTT connection, and a call keeps its whole trace", async () => {
    const { broker, url, hub } = await setup();
    expect(connectedClients(broker)).toBe(0);
    const d = await startSimDevice({ url, productId: P, deviceName: "ok1", reply: "ok" });
    closers.push(() => d.stop());
    const call = await hub.call({ productId: P, deviceName: "ok1", payload: bytes("x") });
    expect(call.status).toBe("success");
    expect(Buffer.from(call.reply!).toString()).toBe("ok");
    expect(call.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "replied", "success"]);
    expect(connectedClients(broker)).toBe(1); // the device alone
  });

  it("hears each reply once while a dashboard watches every RRPC topic, and its live feed reaches the dashboard", async () => {
    const { url, hub, broker } = await setup();
    const stopFeed = startLiveFeed(hub, broker);
    closers.push(stopFeed);
    const live = await client(url, "rrpc-live-inproc");
    const seen: string[] = [];
    const updates: LiveCallUpdate[] = [];
    live.on("message", (topic, payload) => {
      if (topic === LIVE_CALLS_TOPIC) updates.push(...(JSON.parse(payload.toString()) as LiveCallUpdate[]));
      else if (topic.startsWith("$rrpc/")) seen.push(topic);
    });
    await subscribe(live, "$rrpc/#");
    await subscribe(live, "rrpc-hub/#");
    const d = await startSimDevice({ url, productId: P, deviceName: "once1", reply: "ok" });
    closers.push(() => d.stop());

    const before = { ...hub.counters };
    const calls = await Promise.all(Array.from({ length: 20 }, () => hub.call({ productId: P, deviceName: "once1", payload: bytes("x") })));
    expect(calls.map((c) => c.status)).toEqual(Array(20).fill("success"));
    // The dashboard saw every request and reply: the broker delivered them all before this point.
    await waitFor(() => seen.length === 40, "the 20 requests and 20 replies at the dashboard");
    expect(hub.counters).toEqual(before);
    expect(calls.every((c) => c.events.filter((e) => e.type === "replied").length === 1)).toBe(true);
    // A dashboard subscription is not a receiver: one delivery per call, to the device.
    expect(calls.every((c) => c.events.find((e) => e.type === "delivered")?.detail?.subscribers === 1)).toBe(true);
    const last = calls.at(-1)!.processId;
    await waitFor(() => updates.some((u) => u.processId === last && u.status === "success"), "the last call's outcome on the live feed");
  });

  it("stops hearing replies once stopped: a hub started after it on the same broker hears each reply alone", async () => {
    const { url, store, broker, hub: first } = await setup();
    const d = await startSimDevice({ url, productId: P, deviceName: "again1", reply: "ok" });
    closers.push(() => d.stop());
    expect((await first.call({ productId: P, deviceName: "again1", payload: bytes("x") })).status).toBe("success");
    await first.stop();
    const before = { ...first.counters };
    const second = await startHub(broker, store, url);
    const call = await second.call({ productId: P, deviceName: "again1", payload: bytes("x") });
    expect(call.status).toBe("success");
    expect(first.counters).toEqual(before);
  });

  it("fails calls with broker_unavailable once the broker has closed under it", async () => {
    const { broker, hub } = await setup();
    await broker.close();
    await waitFor(() => !hub.isReady, "the hub to see the broker closed");
    const call = await hub.call({ productId: P, deviceName: "gone1", payload: bytes("x") });
    expect(call.status).toBe("broker_unavailable");
    expect(call.events.map((e) => e.type)).toEqual(["requested", "broker_unavailable"]);
  });

  it("with transport mqtt, talks to the same broker over one MQTT.js connection instead (the bench's colocated-mqtt row)", async () => {
    const { broker, url, hub } = await setup({ transport: "mqtt" });
    expect(connectedClients(broker)).toBe(1);
    const d = await startSimDevice({ url, productId: P, deviceName: "mq1", reply: "ok" });
    closers.push(() => d.stop());
    const call = await hub.call({ productId: P, deviceName: "mq1", payload: bytes("x") });
    expect(call.status).toBe("success");
    expect(call.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "replied", "success"]);
  });
});
