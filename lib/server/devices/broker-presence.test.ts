/**
 * Presence from an external broker's client events: the model fed with EMQX-shaped $SYS
 * messages, and a broker that publishes none (Mosquitto), where calls end as before. The
 * end-to-end path with a broker that does publish them is in auth/broker-hooks.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { parseClientEvent } from "../../rrpc/broker-events";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { startSimDevice } from "../simulator/simulator";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { startMosquitto, tempDir, waitFor, type Mosquitto } from "../testing/servers";
import { startInProcessHub, type InProcessHub } from "../testing/hub";
import { BrokerPresence } from "./broker-presence";
import { DeviceRegistry } from "./registry";

const P = "PRESENCE01";
const topic = (clientId: string, what: "connected" | "disconnected", node = "emqx@n1") => `$SYS/brokers/${node}/clients/${clientId}/${what}`;
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe("parseClientEvent", () => {
  it("reads EMQX's connected and disconnected events", async () => {
    expect(parseClientEvent(topic(`${P}d1`, "connected"), json({ clientid: `${P}d1`, username: "u", connected_at: 5, ts: 6, proto_ver: 4 }))).toEqual(
      {
        clientId: `${P}d1`,
        connected: true,
        at: 5,
      },
    );
    expect(parseClientEvent(topic(`${P}d1`, "disconnected"), json({ clientid: `${P}d1`, reason: "normal", disconnected_at: 7, ts: 8 }))).toEqual({
      clientId: `${P}d1`,
      connected: false,
      at: 7,
    });
    expect(parseClientEvent(topic(`${P}d1`, "disconnected"), json({}))).toEqual({ clientId: `${P}d1`, connected: false, at: null });
  });

  it("ignores other topics, malformed payloads and replaced connections", async () => {
    const cases: [string, Buffer][] = [
      [`$SYS/brokers/n1/clients/${P}d1/subscribed`, json({})],
      [`$SYS/brokers/n1/clients/+/connected`, json({})],
      [`$SYS/brokers/n1/clients/${P}d1/connected/x`, json({})],
      [`$rrpc/txd/${P}/d1/1`, json({})],
      [topic(`${P}d1`, "connected"), Buffer.from("{not json")],
      [topic(`${P}d1`, "connected"), Buffer.from([0xff, 0xfe])],
      [topic(`${P}d1`, "connected"), json(null)],
      [topic(`${P}d1`, "connected"), json([1])],
      [topic(`${P}d1`, "connected"), json({ clientid: `${P}d2` })],
      [topic(`${P}d1`, "connected"), json({ ts: "yesterday" })],
      [topic(`${P}d1`, "connected"), json({ clientid: 12 })],
      [topic(`${P}d1`, "disconnected"), json({ reason: "takenover" })],
      [topic(`${P}d1`, "disconnected"), json({ reason: "discarded" })],
    ];
    for (const [t, p] of cases) expect(parseClientEvent(t, p), `${t} ${p.toString()}`).toBeNull();
  });
});

describe("BrokerPresence", () => {
  let store: Store;
  let registry: DeviceRegistry;

  beforeAll(async () => {
    store = new Store(join(tempDir(), "presence.db"));
    registry = new DeviceRegistry(new SqliteCallStore(store).sql);
    await registry.createDevice(P, "d1");
    await registry.createDevice(P, "d2");
  });

  afterAll(() => store.close());

  it("knows a device offline only from its last event, in the broker's order, and forgets on demand", async () => {
    const p = new BrokerPresence(registry);
    const changes: string[] = [];
    p.onPresence((d, online) => changes.push(`${d.deviceName} ${online}`));
    expect(p.isOffline(P, "d1")).toBe(false); // never seen: unknown
    await p.handle(topic(`${P}d1`, "disconnected"), json({ disconnected_at: 100 }));
    expect(p.isOffline(P, "d1")).toBe(true);
    await p.handle(topic(`${P}d1`, "connected", "emqx@n2"), json({ connected_at: 90 })); // older, from another node: ignored
    expect(p.isOffline(P, "d1")).toBe(true);
    await p.handle(topic(`${P}d1`, "connected"), json({ connected_at: 110 }));
    expect(p.isOffline(P, "d1")).toBe(false);
    await p.handle(topic(`${P}d1`, "connected"), json({ connected_at: 120 })); // no change: no listener call
    await p.handle(topic(`${P}d1`, "disconnected"), json({ reason: "takenover", disconnected_at: 130 }));
    expect(p.isOffline(P, "d1")).toBe(false);
    await p.handle(topic(`${P}d2`, "disconnected"), json({ ts: 5 }));
    // Not a registered device: the hub, a dashboard, an unknown id.
    await p.handle(topic("rrpc-hub-abc", "disconnected"), json({}));
    await p.handle(topic(`${P}ghost`, "disconnected"), json({}));
    expect(p.isOffline(P, "ghost")).toBe(false);
    expect(changes).toEqual(["d1 false", "d1 true", "d2 false"]);
    p.forget();
    expect(p.isOffline(P, "d2")).toBe(false);
  });
});

describe("a broker without client events (Mosquitto)", () => {
  let mosquitto: Mosquitto;
  let hub: InProcessHub;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    hub = await startInProcessHub({ MQTT_URL: mosquitto.url });
    await waitFor(() => hub.rt.brokerEvents?.subscribed, "the hub to subscribe to client events");
  });

  afterAll(async () => {
    await hub?.stop();
    await mosquitto?.stop();
  });

  it("changes nothing: a call to a device that left ends as a timeout", async () => {
    const { secret } = await hub.rt.devices.createDevice(P, "m1");
    const d = await startSimDevice({ url: mosquitto.url, productId: P, deviceName: "m1", secret });
    expect((await hub.rt.hub.call({ productId: P, deviceName: "m1", payload: Buffer.from("x") })).status).toBe("success");
    await d.stop();
    // Mosquitto does not deliver a client's publish on $SYS: a forged event is no event.
    const forger = connectMqtt(mosquitto.url, { clientId: "forger", reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => forger.once("connect", () => resolve()).once("error", reject));
    await forger.publishAsync(topic(`${P}m1`, "disconnected"), JSON.stringify({ clientid: `${P}m1`, reason: "normal" }), { qos: 1 });
    await endMqtt(forger);
    const call = await hub.rt.hub.call({ productId: P, deviceName: "m1", payload: Buffer.from("x"), timeoutMs: 200 });
    expect(call.status).toBe("timeout");
    expect(call.events.map((e) => e.type)).toContain("published");
    expect(hub.rt.presence!.of(P, "m1").changes).toEqual([]);
  });
});
