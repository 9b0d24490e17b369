/**
 * The embedded broker as the runtime wires it: Tencent key authentication for devices, topic
 * ACLs and live-view tokens, end to end; the hub in-process, with no login. Real aedes, real
 * MQTT.js clients. The rules case by case are one table for both transports: broker-rules.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { startEmbeddedBroker, type EmbeddedBroker } from "../broker/embedded";
import { DeviceRegistry } from "../devices/registry";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { Hub, HUB_CLIENT_PREFIX } from "../calls/hub";
import { LIVE_CLIENT_PREFIX } from "../live/access";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { startSimDevice } from "../simulator/simulator";
import { replyTopic, requestTopic } from "../../rrpc/topics";
import { tempDir, waitFor } from "../testing/servers";
import { brokerAccess, LIVE_USERNAME, RETAINED_PAYLOAD_MAX, RETAINED_TOPICS_PER_DEVICE } from "./broker-acl";
import { deviceCredentials } from "./device-auth";
import { TokenSigner } from "./tokens";

const P = "ACLPROD001";
let broker: EmbeddedBroker;
let registry: DeviceRegistry;
let store: Store;
let hub: Hub;
let url: string;
const liveTokens = new TokenSigner();

beforeAll(async () => {
  store = new Store(join(tempDir(), "acl.db"));
  registry = new DeviceRegistry(new SqliteCallStore(store).sql);
  const access = brokerAccess({ registry, liveTokens, hubClientPrefix: HUB_CLIENT_PREFIX, liveClientPrefix: LIVE_CLIENT_PREFIX });
  broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver: access.isObserver }, access.hooks);
  url = `mqtt://127.0.0.1:${broker.tcpPort}`;
  hub = new Hub({
    store: new SqliteCallStore(store),
    mqttUrl: url,
    broker,
    maxInFlight: 100,
    maxPayloadBytes: 1024,
    defaultTimeoutMs: 4000,
    deviceState: (p, d) => registry.deviceState(p, d),
  });
  await hub.start();
  expect(hub.isReady).toBe(true);
});

afterAll(async () => {
  await hub.stop();
  await broker.close();
  store.close();
});

/** The CONNACK refusal code a client gets, or 0 when it connects. */
async function connackCode(clientId: string, username?: string, password?: string, protocolVersion: 3 | 4 = 4): Promise<number> {
  const c = connectMqtt(url, { clientId, username, password, protocolVersion, reconnectPeriod: 0 });
  try {
    return await new Promise<number>((resolve) => {
      c.once("connect", () => resolve(0));
      c.once("error", (err) => resolve(Number((err as Error & { code?: number }).code)));
    });
  } finally {
    await endMqtt(c, true);
  }
}

async function connected(clientId: string, username: string, password: string): Promise<MqttClient> {
  const c = connectMqtt(url, { clientId, username, password, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  return c;
}

async function deviceClient(deviceName: string): Promise<MqttClient> {
  const secret = (await registry.getDeviceSecret(P, deviceName)) ?? (await registry.createDevice(P, deviceName)).secret;
  const creds = deviceCredentials(P, deviceName, secret);
  return connected(creds.clientId, creds.username, creds.password);
}

/**
 * Publishes on the device's own namespace and waits for the message to come back: the broker has
 * handled everything the client published before it, and the client has received everything the
 * broker routed to it before.
 */
async function barrier(c: MqttClient, deviceName: string): Promise<void> {
  const topic = `${P}/${deviceName}/barrier`;
  expect(await grantedQos(c, topic)).toBe(0);
  const back = new Promise<void>((resolve) => {
    const on = (t: string) => t === topic && (c.off("message", on), resolve());
    c.on("message", on);
  });
  c.publish(topic, "barrier");
  await back;
}

/** The granted QoS of a SUBACK, 128 for a refused filter (MQTT.js reports that as an error). */
function grantedQos(c: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve, reject) =>
    c.subscribe(filter, { qos: 0 }, (err, granted) => {
      if (err && "packet" in err) return resolve(128);
      if (err) return reject(err);
      resolve(granted?.[0]?.qos ?? -1);
    }),
  );
}

describe("device key authentication", () => {
  it("lets a device with Tencent credentials connect, subscribe and answer calls", async () => {
    const { secret } = await registry.createDevice(P, "kitchen");
    const d = await startSimDevice({ url, productId: P, deviceName: "kitchen", secret, reply: "warm" });
    const call = await hub.call({ productId: P, deviceName: "kitchen", payload: Buffer.from("temp?") });
    expect(call.status).toBe("success");
    expect(Buffer.from(call.reply!).toString()).toBe("warm");
    await d.stop();
  });

  it("accepts HMAC-SHA1 and HMAC-SHA256 passwords, over MQTT 3.1 (Python SDK: millisecond timestamp) and 3.1.1", async () => {
    const { secret } = await registry.createDevice(P, "pysdk");
    const username = `${P}pysdk;21010406;aB3dE;${Date.now() - 3_600_000}`;
    const sha1 = createHmac("sha1", Buffer.from(secret, "base64")).update(username).digest("hex");
    expect(await connackCode(`${P}pysdk`, username, `${sha1};hmacsha1`, 3)).toBe(0);
    const c = deviceCredentials(P, "pysdk", secret, { algorithm: "hmacsha256" });
    expect(await connackCode(c.clientId, c.username, c.password, 4)).toBe(0);
    const never = `${P}pysdk;12010126;xYz12;9223372036854775807`;
    const sha256 = createHmac("sha256", Buffer.from(secret, "base64")).update(never).digest("hex");
    expect(await connackCode(`${P}pysdk`, never, `${sha256};hmacsha256`)).toBe(0);
    // MQTT 3.1 with the longest client id Tencent's rules allow (10 + 48 characters).
    const longest = "n".repeat(48);
    const long = deviceCredentials(P, longest, (await registry.createDevice(P, longest)).secret, { algorithm: "hmacsha1" });
    expect(long.clientId).toHaveLength(58);
    expect(await connackCode(long.clientId, long.username, long.password, 3)).toBe(0);
  });

  it("closes a live dashboard's connection when its credential expires", async () => {
    const short = liveTokens.sign("live", 300).token;
    const c = connectMqtt(url, { clientId: `${LIVE_CLIENT_PREFIX}brief`, username: LIVE_USERNAME, password: short, reconnectPeriod: 0 });
    let closed = false;
    c.on("close", () => (closed = true));
    try {
      await new Promise<void>((resolve, reject) => c.once("connect", () => resolve()).once("error", reject));
      await waitFor(() => closed, "the broker to close the expired dashboard's connection");
      // The same credential cannot log in again.
      expect(await connackCode(`${LIVE_CLIENT_PREFIX}brief`, LIVE_USERNAME, short)).toBe(4);
    } finally {
      await endMqtt(c, true);
    }
  });
});

describe("topic ACL", () => {
  it("keeps at most RETAINED_TOPICS_PER_DEVICE retained topics per device, none over RETAINED_PAYLOAD_MAX", async () => {
    const d = await deviceClient("hoarder");
    const publish = (topic: string, payload: string | Buffer) =>
      new Promise<void>((resolve, reject) => d.publish(topic, payload, { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())));
    for (let i = 0; i < RETAINED_TOPICS_PER_DEVICE + 5; i++) await publish(`${P}/hoarder/t${i}`, `v${i}`);
    await publish(`${P}/hoarder/t0`, "v0 again"); // an update of a kept topic stays retained
    await publish(`${P}/hoarder/t1`, ""); // an empty payload clears one, leaving room for one more
    await publish(`${P}/hoarder/late`, "fits now");
    await publish(`${P}/hoarder/t2`, Buffer.alloc(RETAINED_PAYLOAD_MAX + 1)); // too big: delivered, not kept
    await endMqtt(d, true);

    const again = await deviceClient("hoarder");
    const got = new Map<string, string>();
    again.on("message", (topic, payload, packet) => packet.retain && got.set(topic, payload.toString()));
    try {
      expect(await grantedQos(again, `${P}/hoarder/#`)).toBe(0);
      await waitFor(() => got.size >= RETAINED_TOPICS_PER_DEVICE, "the retained messages");
      await barrier(again, "hoarder");
      const expected = new Map(Array.from({ length: RETAINED_TOPICS_PER_DEVICE }, (_, i) => [`${P}/hoarder/t${i}`, `v${i}`]));
      expected.set(`${P}/hoarder/t0`, "v0 again");
      expected.delete(`${P}/hoarder/t1`);
      expected.set(`${P}/hoarder/late`, "fits now");
      expected.set(`${P}/hoarder/t2`, "v2");
      expect(got).toEqual(expected);
    } finally {
      await endMqtt(again, true);
    }
  });

  it("drops a device's publish on another device's reply topic: a forged reply does not complete the call", async () => {
    await deviceClient("beta").then((c) => endMqtt(c)); // registered
    const { secret } = { secret: (await registry.getDeviceSecret(P, "beta"))! };
    const beta = await startSimDevice({ url, productId: P, deviceName: "beta", secret, silent: true });
    const alpha = await deviceClient("alpha");
    const calls = hub.call({ productId: P, deviceName: "beta", payload: Buffer.from("open"), timeoutMs: 60_000 });
    await waitFor(() => beta.received === 1, "the request to reach beta");
    const pid = (await store.list({ limit: 1, deviceName: "beta" }))[0]!.processId;
    alpha.publish(replyTopic(P, "beta", pid), "forged");
    // A request forged by a device is dropped too: only the hub publishes requests.
    alpha.publish(requestTopic(P, "beta", "1999999999"), "forged request");
    // The broker has handled both once alpha's next (allowed) message is back; then beta answers
    // for real. Had the forged reply reached the hub, it would have come first and ended the call.
    await barrier(alpha, "alpha");
    beta.client.publish(replyTopic(P, "beta", pid), "genuine");
    const call = await calls;
    expect(call.status).toBe("success");
    expect(Buffer.from(call.reply!).toString()).toBe("genuine");
    expect(call.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "replied", "success"]);
    await barrier(beta.client, "beta");
    expect(beta.received).toBe(1);
    expect(alpha.connected).toBe(true);
    await endMqtt(alpha);
    await beta.stop();
  });

  it("gives the live view read access to RRPC traffic and no publish rights", async () => {
    const token = liveTokens.sign("live", 60_000).token;
    const live = await connected(`${LIVE_CLIENT_PREFIX}reader`, LIVE_USERNAME, token);
    expect(await grantedQos(live, "$rrpc/rxd/#")).toBe(0);
    expect(await grantedQos(live, "$rrpc/txd/#")).toBe(0);
    expect(await grantedQos(live, "rrpc-hub/#")).toBe(0);
    expect(await grantedQos(live, `${P}/alpha/#`)).toBe(128);

    const { secret } = { secret: (await registry.getDeviceSecret(P, "kitchen"))! };
    const d = await startSimDevice({ url, productId: P, deviceName: "kitchen", secret, silent: true });
    const seen: string[] = [];
    const spy = await deviceClient("gamma");
    await grantedQos(spy, `$rrpc/rxd/${P}/gamma/+`);
    spy.on("message", (t) => seen.push(t));
    live.publish(requestTopic(P, "kitchen", "1999999998"), "from the browser");
    live.publish(requestTopic(P, "gamma", "1999999997"), "from the browser");
    // The live view may publish nothing, but a SUBACK to its next packet says the broker has
    // handled the two before; then each receiver's own message back says it has had everything
    // routed to it before.
    expect(await grantedQos(live, "rrpc-hub/barrier")).toBe(0);
    await barrier(d.client, "kitchen");
    await barrier(spy, "gamma");
    expect(d.received).toBe(0);
    expect(seen).toEqual([`${P}/gamma/barrier`]);
    await d.stop();
    await endMqtt(spy);
    await endMqtt(live);
  });

  it("refuses calls to unknown and disabled devices before publishing", async () => {
    await expect(hub.call({ productId: P, deviceName: "nobody", payload: Buffer.from("x") })).rejects.toMatchObject({ reason: "device_not_found" });
    await registry.createDevice(P, "off");
    await registry.setDisabled(P, "off", true);
    await expect(hub.call({ productId: P, deviceName: "off", payload: Buffer.from("x") })).rejects.toMatchObject({ reason: "device_disabled" });
  });
});
