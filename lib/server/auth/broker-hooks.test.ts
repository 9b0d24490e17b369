/**
 * The HTTP hooks end to end: a hub whose external broker (aedes made to behave as EMQX 5 does with
 * docs/scale-out.md's configuration, testing/emqx.ts) asks it about every login, subscription and
 * publish; what the hooks answer to wrong secrets and malformed bodies; and the logins every hub
 * sharing the secret accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MqttClient } from "mqtt";
import type { LiveConfig } from "../../rrpc/api";
import { LIVE_PRESENCE_TOPIC, type LivePresence } from "../../rrpc/live";
import { brokerAuthnAnswerSchema, brokerAuthzAnswerSchema } from "../../rrpc/api-schemas";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { startSimDevice } from "../simulator/simulator";
import { startMosquitto, waitFor, type Mosquitto } from "../testing/servers";
import { apiRequest, startInProcessHub, type InProcessHub } from "../testing/hub";
import { EMQX_AUTHN_BODY, EMQX_AUTHZ_BODY, postHook, renderTemplate, startEmqxLike, type EmqxLike } from "../testing/emqx";
import { HOOK_BODY_MAX_BYTES, sharedBrokerKeys } from "./broker-hooks";
import { HUB_USERNAME, LIVE_USERNAME } from "./broker-rules";
import { deviceCredentials } from "./device-auth";

const SECRET = "hook-secret-for-the-hooks-test-0123456789";
const P = "HOOKSP0001";
const WS_PUBLIC = "wss://broker.example.test/mqtt";

let emqx: EmqxLike;
let hub: InProcessHub;
const hubs: string[] = [];

beforeAll(async () => {
  emqx = await startEmqxLike({ hubs: () => hubs, secret: SECRET });
  // The broker asks this very hub about the hub's own login: it gets in once its HTTP server answers.
  hub = await startInProcessHub({ MQTT_URL: emqx.url, RRPC_BROKER_HOOK_SECRET: SECRET, MQTT_WS_PUBLIC_URL: WS_PUBLIC });
  hubs.push(hub.url);
  await waitFor(() => hub.rt.hub.isReady, "the hub to log in through its own hooks", 20_000);
  await waitFor(() => hub.rt.brokerEvents?.subscribed, "the hub to subscribe to the broker's client events");
});

afterAll(async () => {
  await hub?.stop();
  await emqx?.close();
});

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

const onlineOf = (deviceName: string) => hub.rt.presence!.of(P, deviceName).changes[0]?.online ?? null;

describe("an EMQX-shaped broker calling the hub's hooks", () => {
  it("lets a registered device in, and its call succeeds; refuses a wrong secret", async () => {
    const { secret } = await hub.rt.devices.createDevice(P, "lamp");
    const d = await startSimDevice({ url: emqx.url, productId: P, deviceName: "lamp", secret, reply: "lit" });
    const call = await hub.rt.hub.call({ productId: P, deviceName: "lamp", payload: Buffer.from("on") });
    expect(call.status).toBe("success");
    expect(Buffer.from(call.reply!).toString()).toBe("lit");
    await d.stop();

    const wrong = deviceCredentials(P, "lamp", Buffer.from("not the secret!!").toString("base64"));
    const c = connectMqtt(emqx.url, { ...wrong, reconnectPeriod: 0 });
    const code = await new Promise<number>((resolve) => {
      c.once("connect", () => resolve(0));
      c.once("error", (err) => resolve(Number((err as Error & { code?: number }).code)));
    });
    await endMqtt(c, true);
    expect(code).toBe(5);
  });

  it("gives the live view a token the broker accepts through the hooks, read-only", async () => {
    const live = await apiRequest<LiveConfig>(hub.url, "GET", "/api/live");
    expect(live.body).toMatchObject({ url: WS_PUBLIC, port: null, username: LIVE_USERNAME, password: expect.any(String) });
    const c = connectMqtt(emqx.url, {
      clientId: `${live.body.clientIdPrefix}t1`,
      username: live.body.username!,
      password: live.body.password!,
      reconnectPeriod: 0,
    });
    try {
      await new Promise<void>((resolve, reject) => c.once("connect", () => resolve()).once("error", reject));
      expect(await grantedQos(c, `$rrpc/rxd/${P}/+/+`)).toBe(0);
      expect(await grantedQos(c, `${P}/lamp/#`)).toBe(128);
      const seen = new Promise<string>((resolve) => c.once("message", (t) => resolve(t)));
      const { secret } = await hub.rt.devices.createDevice(P, "watched");
      const d = await startSimDevice({ url: emqx.url, productId: P, deviceName: "watched", secret });
      const call = await hub.rt.hub.call({ productId: P, deviceName: "watched", payload: Buffer.from("x") });
      expect(await seen).toBe(`$rrpc/rxd/${P}/watched/${call.processId}`);
      await d.stop();
    } finally {
      await endMqtt(c, true);
    }
  });

  it("fails calls fast with `offline` once the broker says the device disconnected, and not before", async () => {
    const { secret } = await hub.rt.devices.createDevice(P, "fan");
    let d = await startSimDevice({ url: emqx.url, productId: P, deviceName: "fan", secret });
    await waitFor(() => onlineOf("fan") === true, "the connected event");
    expect((await hub.rt.hub.call({ productId: P, deviceName: "fan", payload: Buffer.from("x") })).status).toBe("success");

    // A disconnect because another connection took the client id over: still online.
    await emqx.publishAsBroker(
      `$SYS/brokers/n2/clients/${P}fan/disconnected`,
      JSON.stringify({ clientid: `${P}fan`, reason: "takenover", ts: Date.now() }),
    );
    expect((await hub.rt.hub.call({ productId: P, deviceName: "fan", payload: Buffer.from("x") })).status).toBe("success");

    // Live dashboards hear of it too, on the live feed's presence topic.
    const live = (await apiRequest<LiveConfig>(hub.url, "GET", "/api/live")).body;
    const watcher = connectMqtt(emqx.url, {
      clientId: `${live.clientIdPrefix}p`,
      username: live.username!,
      password: live.password!,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve, reject) => watcher.once("connect", () => resolve()).once("error", reject));
    expect(await grantedQos(watcher, LIVE_PRESENCE_TOPIC)).toBe(0);
    const heard: LivePresence[] = [];
    watcher.on("message", (_t, payload) => heard.push(...(JSON.parse(payload.toString()) as LivePresence[])));
    await d.stop();
    await waitFor(() => onlineOf("fan") === false, "the disconnected event");
    await waitFor(() => heard.some((p) => p.deviceName === "fan" && !p.online), "the live feed's presence message");
    await endMqtt(watcher, true);
    const offline = await hub.rt.hub.call({ productId: P, deviceName: "fan", payload: Buffer.from("x"), timeoutMs: 300_000 });
    expect(offline.status).toBe("offline");
    expect(offline.events.map((e) => e.type)).toEqual(["requested", "offline"]);

    // Malformed events change nothing: not JSON, another client id in the payload, a wrong type.
    const topic = `$SYS/brokers/n1/clients/${P}fan/connected`;
    await emqx.publishAsBroker(topic, "{not json");
    await emqx.publishAsBroker(topic, JSON.stringify({ clientid: `${P}lamp`, ts: Date.now() }));
    await emqx.publishAsBroker(topic, JSON.stringify({ clientid: `${P}fan`, ts: "now" }));
    expect((await hub.rt.hub.call({ productId: P, deviceName: "fan", payload: Buffer.from("x"), timeoutMs: 300_000 })).status).toBe("offline");

    d = await startSimDevice({ url: emqx.url, productId: P, deviceName: "fan", secret });
    await waitFor(() => onlineOf("fan") === true, "the connected event");
    expect((await hub.rt.hub.call({ productId: P, deviceName: "fan", payload: Buffer.from("x") })).status).toBe("success");
    await d.stop();
  });

  it("counts the hooks' decisions", async () => {
    const text = (await hub.rt.metrics.scrape()).body;
    const value = (hook: string, result: string) =>
      Number(new RegExp(`^rrpc_broker_hook_decisions_total\\{hook="${hook}",result="${result}"\\} (\\d+)`, "m").exec(text)?.[1]);
    expect(value("authn", "allow")).toBeGreaterThanOrEqual(4);
    expect(value("authn", "deny")).toBeGreaterThanOrEqual(1);
    expect(value("authz", "allow")).toBeGreaterThanOrEqual(4);
    expect(value("authz", "deny")).toBeGreaterThanOrEqual(1);
    expect(emqx.calls.authn).toBeGreaterThanOrEqual(value("authn", "allow") + value("authn", "deny"));
  });
});

describe("bad requests to the hooks", () => {
  const login = async () => deviceCredentials(P, "lamp", (await hub.rt.devices.getDeviceSecret(P, "lamp"))!);
  const authnBody = async () => {
    const c = await login();
    return renderTemplate(EMQX_AUTHN_BODY, { clientid: c.clientId, username: c.username, password: c.password });
  };

  it("answers 401 without the secret, whatever the body, and counts nothing", async () => {
    // Only authn: the hub's own publishes keep asking authz meanwhile.
    const authnCounts = async () => (await hub.rt.metrics.scrape()).body.match(/^rrpc_broker_hook_decisions_total\{hook="authn".*$/gm);
    const before = await authnCounts();
    expect(await postHook(hub.url, "authn", await authnBody(), SECRET)).toMatchObject({ status: 200, result: "allow" });
    for (const secret of [null, "wrong", `${SECRET}x`, SECRET.slice(0, -1)]) {
      const r = await postHook(hub.url, "authn", await authnBody(), secret);
      expect(r.status, String(secret)).toBe(401);
      expect(JSON.parse(r.text)).toMatchObject({ error: { code: "unauthorized" } });
    }
    const basic = await postHook(hub.url, "authz", "{}", null, { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString("base64")}` });
    expect(basic.status).toBe(401);
    const after = await authnCounts();
    const allowed = (lines: string[] | null) => Number(lines!.find((l) => l.includes('result="allow"'))!.split(" ")[1]);
    expect(allowed(after)).toBe(allowed(before) + 1); // the one good request
    expect(after!.find((l) => l.includes('result="deny"'))).toBe(before!.find((l) => l.includes('result="deny"')));
  });

  it("denies, with 200, every body it cannot read as a request", async () => {
    const c = await login();
    const bodies: [string, string, Record<string, string>?][] = [
      ["authn", "{not json"],
      ["authn", ""],
      ["authn", "[]"],
      ["authn", "null"],
      ["authn", JSON.stringify({ clientid: 42, username: c.username, password: c.password })],
      ["authn", JSON.stringify({ username: c.username, password: c.password })],
      ["authn", JSON.stringify({ clientid: c.clientId, username: c.username, password: c.password, padding: "x".repeat(HOOK_BODY_MAX_BYTES) })],
      ["authz", JSON.stringify({ clientid: c.clientId, username: c.username, topic: `${P}/lamp/x` })],
      ["authz", JSON.stringify({ clientid: c.clientId, username: c.username, topic: `${P}/lamp/x`, action: "delete" })],
      ["authz", JSON.stringify({ clientid: c.clientId, username: c.username, topic: "", action: "publish" })],
      ["authz", "\u0000\u0001"],
    ];
    for (const [hook, body] of bodies) {
      const r = await postHook(hub.url, hook as "authn" | "authz", body, SECRET);
      expect(r, body.slice(0, 80)).toMatchObject({ status: 200, result: "deny" });
      // The answer is what the API document says.
      (hook === "authn" ? brokerAuthnAnswerSchema : brokerAuthzAnswerSchema).parse(JSON.parse(r.text));
    }
    // The same body, well-formed, is allowed: the denials above are the body's.
    const ok = renderTemplate(EMQX_AUTHZ_BODY, {
      clientid: c.clientId,
      username: c.username,
      topic: `${P}/lamp/x`,
      action: "publish",
      retain: "false",
    });
    expect(await postHook(hub.url, "authz", ok, SECRET)).toMatchObject({ status: 200, result: "allow" });
    // Any content type: the body is what counts.
    expect(await postHook(hub.url, "authz", ok, SECRET, { "content-type": "text/plain" })).toMatchObject({ status: 200, result: "allow" });
    const get = await fetch(`${hub.url}/api/broker/authz`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(get.status).toBe(405);
  });

  it("denies retained RRPC messages (the embedded broker clears the flag; EMQX can only deny) and a device disabled since it logged in", async () => {
    const c = await login();
    const authz = (topic: string, retain: string, action = "publish") =>
      postHook(hub.url, "authz", renderTemplate(EMQX_AUTHZ_BODY, { clientid: c.clientId, username: c.username, topic, action, retain }), SECRET);
    expect((await authz(`$rrpc/txd/${P}/lamp/1000000009`, "false")).result).toBe("allow");
    expect((await authz(`$rrpc/txd/${P}/lamp/1000000009`, "true")).result).toBe("deny");
    expect((await authz(`${P}/lamp/state`, "true")).result).toBe("allow");
    hub.rt.devices.setDisabled(P, "lamp", true);
    expect((await authz(`${P}/lamp/state`, "false")).result).toBe("deny");
    expect((await authz(`$rrpc/rxd/${P}/lamp/+`, "", "subscribe")).result).toBe("deny");
    hub.rt.devices.setDisabled(P, "lamp", false);
  });
});

describe("hubs sharing the secret", () => {
  let mosquitto: Mosquitto;
  let other: InProcessHub;
  let stranger: InProcessHub;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    // Another hub (its own database here), and one with another secret.
    other = await startInProcessHub({ MQTT_URL: mosquitto.url, RRPC_BROKER_HOOK_SECRET: SECRET });
    stranger = await startInProcessHub({ MQTT_URL: mosquitto.url, RRPC_BROKER_HOOK_SECRET: `${SECRET}-another` });
  });

  afterAll(async () => {
    await other?.stop();
    await stranger?.stop();
    await mosquitto?.stop();
  });

  it("accept each other's hub login and live-view tokens; a hub with another secret refuses them", async () => {
    const live = (await apiRequest<LiveConfig>(hub.url, "GET", "/api/live")).body;
    const liveBody = renderTemplate(EMQX_AUTHN_BODY, { clientid: `${live.clientIdPrefix}x`, username: live.username!, password: live.password! });
    const hubBody = renderTemplate(EMQX_AUTHN_BODY, {
      clientid: hub.rt.hub.clientId,
      username: HUB_USERNAME,
      password: sharedBrokerKeys(SECRET).hubPassword,
    });
    const liveAnswer = await postHook(other.url, "authn", liveBody, SECRET);
    expect(liveAnswer).toMatchObject({ status: 200, result: "allow" });
    expect(brokerAuthnAnswerSchema.parse(JSON.parse(liveAnswer.text))).toEqual({
      result: "allow",
      is_superuser: false,
      expire_at: liveAnswer.expireAt,
    });
    // EMQX (5.8+) ends the connection when the token expires.
    expect(liveAnswer.expireAt).toBe(Math.floor(live.expiresAt! / 1000));
    expect(await postHook(other.url, "authn", hubBody, SECRET)).toMatchObject({ status: 200, result: "allow" });
    expect(await postHook(stranger.url, "authn", liveBody, `${SECRET}-another`)).toMatchObject({ status: 200, result: "deny" });
    expect(await postHook(stranger.url, "authn", hubBody, `${SECRET}-another`)).toMatchObject({ status: 200, result: "deny" });
  });

  it("answer 404 where the hooks are off", async () => {
    const off = await startInProcessHub();
    try {
      expect((await postHook(off.url, "authn", "{}", SECRET)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});
