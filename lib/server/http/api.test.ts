/**
 * The native HTTP API through the real production server (`npm start`: server.mts), its embedded broker
 * and simulated device, and against a real Mosquitto via MQTT_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerDevice, startServer, startMosquitto, waitFor, type ServerHandle, type Mosquitto } from "../testing/servers";
import { deviceCredentials } from "../auth/device-auth";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import type { CallJson } from "../../rrpc/types";
import { replyTopic } from "../../rrpc/topics";

const PRODUCT = "AIRCOND001";
const DEVICE = "airConditioner1";

async function post(s: ServerHandle, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${s.url}/api/calls`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: r.status,
    body: (await r.json()) as Record<string, unknown> & { error?: { code: string; message: string; fields?: { field: string }[] }; call?: CallJson },
  };
}

async function get(s: ServerHandle, path: string) {
  const r = await fetch(`${s.url}${path}`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> & { error?: { code: string; fields?: unknown[] } } };
}

describe("HTTP API on the embedded broker", () => {
  let s: ServerHandle;
  const devices: SimDevice[] = [];
  const secrets: Record<string, string> = {};
  beforeAll(async () => {
    s = await startServer({ RRPC_MAX_PAYLOAD: "1024", RRPC_MAX_IN_FLIGHT: "3" });
    const url = `mqtt://127.0.0.1:${s.mqttPort}`;
    for (const name of ["silent1", "echo1", "ghost", "lazy"]) secrets[name] = await registerDevice(s, PRODUCT, name);
    devices.push(await startSimDevice({ url, productId: PRODUCT, deviceName: "silent1", silent: true, secret: secrets.silent1 }));
    devices.push(await startSimDevice({ url, productId: PRODUCT, deviceName: "echo1", reply: (req) => req, secret: secrets.echo1 }));
  });
  afterAll(async () => {
    for (const d of devices) await d.stop();
    await s?.stop();
  });

  it("200: calls the simulated device and returns its reply with the processId", async () => {
    const r = await post(s, { productId: PRODUCT, deviceName: DEVICE, payload: "closed" });
    expect(r.status).toBe(200);
    const call = r.body as unknown as CallJson;
    expect(call.status).toBe("success");
    expect(call.reply).toEqual({ payloadBase64: "b2s=", payloadText: "ok" });
    expect(call.request.payloadText).toBe("closed");
    expect(call.processId).toMatch(/^[0-9]{10}$/);
    expect(call.messageId).toBe(Number(call.processId));
    expect(call.rttMs).toBeGreaterThan(0);
    expect(call.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "replied", "success"]);

    const one = await get(s, `/api/calls/${call.processId}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(call);
  });

  it("200: an optional clientRef is taken and not echoed in the answer (the answer's shape is unchanged)", async () => {
    const r = await post(s, { productId: PRODUCT, deviceName: DEVICE, payload: "closed", clientRef: "console-1_a" });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("success");
    expect(r.body).not.toHaveProperty("clientRef");
  });

  it("200: base64 payloads go out as bytes and binary replies come back as base64 only", async () => {
    const r = await post(s, { productId: PRODUCT, deviceName: "echo1", payload: "AP+ACg==", encoding: "base64" });
    expect(r.status).toBe(200);
    expect((r.body as unknown as CallJson).reply).toEqual({ payloadBase64: "AP+ACg==" });
  });

  it("400 invalid_request: malformed JSON, missing and unknown fields, topic characters, bad base64, timeout range", async () => {
    const before = await get(s, "/api/calls?limit=1");
    const cases: [unknown, string[]][] = [
      ["{not json", ["(body)"]],
      [{}, ["productId", "deviceName", "payload"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "x", extra: 1 }, ["(body)"]],
      [{ productId: "AIR/COND", deviceName: "a+b", payload: "x" }, ["productId", "deviceName"]],
      [{ productId: PRODUCT, deviceName: "#", payload: "x" }, ["deviceName"]],
      [{ productId: PRODUCT, deviceName: "d\u0000", payload: "x" }, ["deviceName"]],
      [{ productId: "", deviceName: DEVICE, payload: "x" }, ["productId"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "not base64!", encoding: "base64" }, ["payload"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "x", timeoutMs: 50 }, ["timeoutMs"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "x", encoding: "hex" }, ["encoding"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "x", clientRef: "no spaces" }, ["clientRef"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "x", clientRef: "" }, ["clientRef"]],
      [{ productId: PRODUCT, deviceName: DEVICE, payload: "x", clientRef: "a".repeat(65) }, ["clientRef"]],
    ];
    for (const [body, fields] of cases) {
      const r = await post(s, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.code).toBe("invalid_request");
      expect(r.body.error?.message.length).toBeGreaterThan(0);
      for (const f of fields)
        expect(
          r.body.error?.fields?.map((x) => x.field),
          JSON.stringify(body),
        ).toContain(f);
      expect(r.body.call).toBeUndefined();
    }
    const wrongType = await post(s, "productId=x", { "content-type": "application/x-www-form-urlencoded" });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error?.code).toBe("unsupported_media_type");
    const after = await get(s, "/api/calls?limit=1");
    expect(after.body).toEqual(before.body);
  });

  it("413 payload_too_large: over the configured limit, as text or as a whole body", async () => {
    const r = await post(s, { productId: PRODUCT, deviceName: DEVICE, payload: "x".repeat(1025) });
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe("payload_too_large");
    // Both name the payload limit the operator set, never a request-body size.
    expect(r.body.error?.message).toBe("the payload is 1025 bytes; the limit is 1024 (RRPC_MAX_PAYLOAD)");
    const huge = await post(s, { productId: PRODUCT, deviceName: DEVICE, payload: "x".repeat(100_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error?.message).toBe("the payload is over the limit of 1024 bytes (RRPC_MAX_PAYLOAD)");
    const atLimit = await post(s, { productId: PRODUCT, deviceName: "echo1", payload: "y".repeat(1024) });
    expect(atLimit.status).toBe(200);
  });

  it("404 device_not_found for a device not in the registry: nothing is published, no call is made", async () => {
    const before = await get(s, "/api/calls?limit=1");
    const r = await post(s, { productId: PRODUCT, deviceName: "stranger", payload: "x" });
    expect(r.status).toBe(404);
    expect(r.body.error?.code).toBe("device_not_found");
    expect(r.body.call).toBeUndefined();
    expect((await get(s, "/api/calls?limit=1")).body).toEqual(before.body);
  });

  it("409 device_disabled for a disabled device; enabled again it is offline", async () => {
    await registerDevice(s, PRODUCT, "sleeper");
    const patch = (disabled: boolean) =>
      fetch(`${s.url}/api/devices/${PRODUCT}/sleeper`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ disabled }),
      });
    expect((await patch(true)).status).toBe(200);
    const r = await post(s, { productId: PRODUCT, deviceName: "sleeper", payload: "x" });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe("device_disabled");
    expect((await patch(false)).status).toBe(200);
    expect((await post(s, { productId: PRODUCT, deviceName: "sleeper", payload: "x" })).body.error?.code).toBe("device_offline");
  });

  it("409 device_offline at once, 409 device_not_subscribed for a connected device without the subscription", async () => {
    const off = await post(s, { productId: PRODUCT, deviceName: "ghost", payload: "x" });
    expect(off.status).toBe(409);
    expect(off.body.error?.code).toBe("device_offline");
    expect(off.body.call?.status).toBe("offline");
    // At once: decided by the broker's routing before anything was published, not by a timeout.
    expect(off.body.call?.events.map((e) => e.type)).toEqual(["requested", "offline"]);

    const login = deviceCredentials(PRODUCT, "lazy", secrets.lazy!);
    const lazy = connectMqtt(`mqtt://127.0.0.1:${s.mqttPort}`, { ...login, reconnectPeriod: 0 });
    await new Promise((r) => lazy.once("connect", r));
    const ns = await post(s, { productId: PRODUCT, deviceName: "lazy", payload: "x" });
    await endMqtt(lazy, true);
    expect(ns.status).toBe(409);
    expect(ns.body.error?.code).toBe("device_not_subscribed");
  });

  it("504 timeout after timeoutMs, with the call", async () => {
    const r = await post(s, { productId: PRODUCT, deviceName: "silent1", payload: "x", timeoutMs: 300 });
    expect(r.status).toBe(504);
    expect(r.body.error?.code).toBe("timeout");
    expect(r.body.call?.status).toBe("timeout");
    expect(r.body.call?.timeoutMs).toBe(300);
    expect(r.body.call?.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "timeout"]);
    // The hub's own monotonic record: never before the deadline.
    expect(r.body.call?.events.at(-1)?.t).toBeGreaterThanOrEqual(300);
  });

  it("429 busy over the in-flight limit", async () => {
    const slow = Array.from({ length: 3 }, () => post(s, { productId: PRODUCT, deviceName: "silent1", payload: "x", timeoutMs: 60_000 }));
    await waitFor(async () => (await get(s, "/api/health")).body.inFlight === 3, "3 calls in flight");
    const r = await post(s, { productId: PRODUCT, deviceName: "silent1", payload: "x" });
    expect(r.status).toBe(429);
    expect(r.body.error?.code).toBe("busy");
    // Then the device answers the three, which end there (their deadline is far away).
    const pending = (await get(s, "/api/calls?status=pending&deviceName=silent1")).body.calls as CallJson[];
    expect(pending).toHaveLength(3);
    for (const c of pending) devices[0]!.client.publish(replyTopic(PRODUCT, "silent1", c.processId), `answer-${c.processId}`);
    const ended = await Promise.all(slow);
    expect(ended.map((x) => x.status)).toEqual([200, 200, 200]);
    expect(ended.map((x) => `${x.body.processId} ${(x.body as unknown as CallJson).reply?.payloadText}`).sort()).toEqual(
      pending.map((c) => `${c.processId} answer-${c.processId}`).sort(),
    );
  });

  it("GET /api/calls: newest first, filtered, paged; GET one: 404 and 400", async () => {
    for (let i = 0; i < 3; i++) await post(s, { productId: PRODUCT, deviceName: "echo1", payload: `page${i}` });
    const page1 = await get(s, `/api/calls?deviceName=echo1&status=success&limit=2`);
    expect(page1.status).toBe(200);
    const calls1 = page1.body.calls as CallJson[];
    expect(calls1.map((c) => c.request.payloadText)).toEqual(["page2", "page1"]);
    const page2 = await get(s, `/api/calls?deviceName=echo1&status=success&limit=2&before=${page1.body.nextBefore}`);
    const calls2 = page2.body.calls as CallJson[];
    expect(calls2[0]?.request.payloadText).toBe("page0");
    expect(Number(calls2[0]?.processId)).toBeLessThan(Number(calls1[1]?.processId));

    // The one call of this server that timed out: "504 timeout after timeoutMs".
    const timeouts = await get(s, `/api/calls?status=timeout&limit=500`);
    expect((timeouts.body.calls as CallJson[]).map((c) => [c.deviceName, c.status, c.timeoutMs, c.request.payloadText])).toEqual([
      ["silent1", "timeout", 300, "x"],
    ]);

    expect((await get(s, "/api/calls?status=exploded")).status).toBe(400);
    expect((await get(s, "/api/calls?limit=0")).body.error?.code).toBe("invalid_request");
    expect((await get(s, "/api/calls/1999999999")).status).toBe(404);
    expect((await get(s, "/api/calls/1999999999")).body.error?.code).toBe("not_found");
    expect((await get(s, "/api/calls/abc")).status).toBe(400);
    // The count and the prefix filters refuse what they cannot mean, naming the field.
    for (const q of ["/api/calls/count?status=exploded", "/api/calls/count?deviceNamePrefix=", `/api/calls?productIdPrefix=${"p".repeat(65)}`]) {
      const r = await get(s, q);
      expect([q, r.status, r.body.error?.code]).toEqual([q, 400, "invalid_request"]);
      expect(r.body.error?.fields?.length, q).toBeGreaterThan(0);
    }
    const silent = (await get(s, "/api/calls?deviceName=silent1&limit=500")).body.calls as CallJson[];
    expect(silent.length).toBeGreaterThan(0);
    expect((await get(s, "/api/calls/count?deviceNamePrefix=SILENT")).body).toEqual({ total: silent.length });
  });
});

describe("HTTP API with an external Mosquitto (MQTT_URL)", () => {
  let mosq: Mosquitto;
  let s: ServerHandle;
  beforeAll(async () => {
    mosq = await startMosquitto();
    s = await startServer({ MQTT_URL: mosq.url });
  });
  afterAll(async () => {
    await s?.stop();
    await mosq?.stop();
  });

  it("200 through Mosquitto with the simulated device, then 503 broker_unavailable when Mosquitto is gone", async () => {
    const health = await get(s, "/api/health");
    expect(health.body.broker).toBe("external");
    const ok = await post(s, { productId: PRODUCT, deviceName: DEVICE, payload: "closed" });
    expect(ok.status).toBe(200);
    expect((ok.body as unknown as CallJson).reply?.payloadText).toBe("ok");
    // No embedded broker, so a registered device that is not connected cannot be known offline: it times out.
    await registerDevice(s, PRODUCT, "ghost");
    const unknown = await post(s, { productId: PRODUCT, deviceName: "ghost", payload: "x", timeoutMs: 200 });
    expect(unknown.status).toBe(504);
    expect((await post(s, { productId: PRODUCT, deviceName: "stranger", payload: "x" })).status).toBe(404);

    await mosq.stop();
    await waitFor(async () => (await get(s, "/api/health")).status === 503, "health to report the broker lost");
    const down = await post(s, { productId: PRODUCT, deviceName: DEVICE, payload: "closed" });
    expect(down.status).toBe(503);
    expect(down.body.error?.code).toBe("broker_unavailable");
    expect(down.body.call?.status).toBe("broker_unavailable");
  });
});

describe("calls in flight when the server stops", () => {
  it("are recorded as interrupted on a graceful stop and, after a crash, at the next start", async () => {
    let s = await startServer({ RRPC_SIMULATOR: "0" });
    const { dbPath, mqttPort, wsPort } = s;
    const env = { RRPC_DB: dbPath, MQTT_PORT: String(mqttPort), MQTT_WS_PORT: String(wsPort), RRPC_SIMULATOR: "0" };
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const secret = await registerDevice(s, PRODUCT, "sleepy");

    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      const d = await startSimDevice({ url, productId: PRODUCT, deviceName: "sleepy", silent: true, secret });
      const inFlight = post(s, { productId: PRODUCT, deviceName: "sleepy", payload: signal, timeoutMs: 60_000 }).catch(() => null);
      const pending = await waitFor(async () => {
        const r = await get(s, `/api/calls?status=pending&deviceName=sleepy`);
        return (r.body.calls as CallJson[])[0];
      }, "the call to be recorded as pending");
      await s.stop(signal);
      await inFlight;
      await d.stop();
      s = await startServer(env);
      const after = await get(s, `/api/calls/${pending.processId}`);
      const call = after.body as unknown as CallJson;
      expect(call.status, signal).toBe("interrupted");
      expect(call.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "interrupted"]);
      const next = await post(s, { productId: PRODUCT, deviceName: "sleepy", payload: "x" });
      expect(Number(next.body.call?.processId)).toBeGreaterThan(Number(pending.processId));
    }
    await s.stop();
  });
});
