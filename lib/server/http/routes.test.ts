/**
 * Every operation of the routing table, once, through the production server (dist/server.mjs)
 * with sign-in on: each "caller" route refuses an anonymous request with 401 and answers an
 * API key; the list of operations exercised must equal the table, so a new route needs a test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "./routes";
import { startServer, type ServerHandle } from "../testing/servers";
import { signTc3 } from "../tencent/tc3";
import type {
  ApiKeyList,
  CallsPage,
  DeviceConnectInfo,
  DeviceInfo,
  DeviceList,
  Health,
  LiveConfig,
  NewApiKey,
  NewDevice,
  CallCount,
  Limits,
  SessionInfo,
} from "../../rrpc/api";
import type { CallJson } from "../../rrpc/types";

const KEY = { secretId: "AKIDroutestest00000000000000000001", secretKey: "routesTestSecretKey0000000000001" };
const PASSWORD = "routes test password";
const auth = { authorization: `Basic ${Buffer.from(`${KEY.secretId}:${KEY.secretKey}`).toString("base64")}` };

let s: ServerHandle;
const exercised = new Set<string>();

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; anonymous?: boolean; route?: string } = {},
) {
  exercised.add(`${method} ${opts.route ?? path.split("?")[0]}`);
  const headers: Record<string, string> = { ...(opts.anonymous ? {} : auth), ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  const r = await fetch(`${s.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: <T>() => JSON.parse(text) as T };
}

beforeAll(async () => {
  s = await startServer({ RRPC_OPERATOR_PASSWORD: PASSWORD, RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
});
afterAll(async () => {
  await s?.stop();
});

describe("every API operation through the production server", () => {
  it("refuses anonymous callers on every route that needs one, and lets public ones through", async () => {
    for (const r of ROUTES) {
      if (r.path === "/") continue; // Tencent's API: its own signature check, below
      const path = r.path
        .replace(":processId", "1000000000")
        .replace(":productId", "AIRCOND001")
        .replace(":deviceName", "x")
        .replace(":secretId", "AKIDx");
      const res = await fetch(`${s.url}${path}`, {
        method: r.method,
        headers: { "content-type": "application/json" },
        body: r.method === "GET" || r.method === "DELETE" ? undefined : "{}",
      });
      if (r.access === "caller") {
        expect(res.status, `${r.method} ${r.path}`).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      } else {
        expect(res.status, `${r.method} ${r.path}`).not.toBe(401);
      }
    }
  });

  it("health, calls, history, export", async () => {
    const h = await call("GET", "/api/health", { anonymous: true });
    expect(h.status).toBe(200);
    expect(h.json<Health>()).toMatchObject({ ok: true, broker: "embedded", brokerConnected: true, inFlight: 0 });

    const openapi = await call("GET", "/api/openapi.json", { anonymous: true });
    expect(openapi.json<{ openapi: string }>().openapi).toBe("3.1.0");

    const limits = await call("GET", "/api/limits");
    expect(limits.json<Limits>()).toEqual({
      maxPayloadBytes: 131072,
      maxReplyBytes: 1048576,
      minTimeoutMs: 100,
      maxTimeoutMs: 300000,
      defaultTimeoutMs: 4000,
    });

    const made = await call("POST", "/api/calls", { body: { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" } });
    expect(made.status).toBe(200);
    const callJson = made.json<CallJson>();
    expect(callJson).toMatchObject({ status: "success", reply: { payloadText: "ok" } });

    const list = await call("GET", "/api/calls?limit=1");
    expect(list.status).toBe(200);
    expect(list.json<CallsPage>().calls.map((c) => c.processId)).toEqual([callJson.processId]);

    const one = await call("GET", `/api/calls/${callJson.processId}`, { route: "/api/calls/:processId" });
    expect(one.json<CallJson>()).toEqual(callJson);

    const csv = await call("GET", "/api/calls/export?format=csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.text.split("\r\n")[1]).toMatch(new RegExp(`^${callJson.processId},AIRCOND001,airConditioner1,success,`));
    const counted = await call("GET", "/api/calls/count?deviceName=airConditioner1&status=success");
    expect(counted.json<CallCount>()).toEqual({ total: 1 });
    const asJson = await call("GET", "/api/calls/export?format=json");
    expect(asJson.json<CallJson[]>().map((c) => c.processId)).toEqual([callJson.processId]);
  });

  it("devices: register, list, connect, new secret, disable, delete", async () => {
    const created = await call("POST", "/api/devices", { body: { productId: "ROUTES0001", deviceName: "d1" } });
    expect(created.status).toBe(201);
    expect(created.json<NewDevice>()).toEqual({ productId: "ROUTES0001", deviceName: "d1", secret: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/) });
    const listed = await call("GET", "/api/devices");
    expect(listed.json<DeviceList>().devices.find((d) => d.deviceName === "d1")).toMatchObject({ registered: true, disabled: false, online: false });
    const connect = await call("GET", "/api/devices/ROUTES0001/d1/connect", { route: "/api/devices/:productId/:deviceName/connect" });
    expect(connect.json<DeviceConnectInfo>()).toMatchObject({ clientId: "ROUTES0001d1", mqtt: { host: "127.0.0.1", port: s.mqttPort } });
    expect(connect.text).not.toContain(created.json<NewDevice>().secret);
    const rotated = await call("POST", "/api/devices/ROUTES0001/d1/secret", { route: "/api/devices/:productId/:deviceName/secret" });
    expect(rotated.json<NewDevice>()).toEqual({ productId: "ROUTES0001", deviceName: "d1", secret: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/) });
    expect(rotated.json<NewDevice>().secret).not.toBe(created.json<NewDevice>().secret);
    const patched = await call("PATCH", "/api/devices/ROUTES0001/d1", { body: { disabled: true }, route: "/api/devices/:productId/:deviceName" });
    expect(patched.json<DeviceInfo>()).toMatchObject({ productId: "ROUTES0001", deviceName: "d1", disabled: true });
    const deleted = await call("DELETE", "/api/devices/ROUTES0001/d1", { route: "/api/devices/:productId/:deviceName" });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
  });

  it("keys: create, list, revoke", async () => {
    const created = await call("POST", "/api/keys", { body: { name: "routes" } });
    expect(created.status).toBe(201);
    const key = created.json<NewApiKey>();
    const listed = await call("GET", "/api/keys");
    expect(listed.json<ApiKeyList>().keys.map((k) => k.secretId)).toContain(key.secretId);
    expect(listed.text).not.toContain(key.secretKey);
    const revoked = await call("DELETE", `/api/keys/${key.secretId}`, { route: "/api/keys/:secretId" });
    expect(revoked.status).toBe(200);
    expect(revoked.json<{ revokedAt: string | null }>().revokedAt).not.toBeNull();
  });

  it("session: ask, sign in, sign out; live credentials", async () => {
    expect((await call("GET", "/api/session", { anonymous: true })).json<SessionInfo>()).toEqual({ required: true, user: null });
    const wrong = await call("POST", "/api/session", { anonymous: true, body: { user: "admin", password: "not it at all" } });
    expect(wrong.status).toBe(401);
    const ok = await call("POST", "/api/session", { anonymous: true, body: { user: "admin", password: PASSWORD } });
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call("GET", "/api/session", { anonymous: true, headers: { cookie } })).json<SessionInfo>()).toEqual({
      required: true,
      user: "admin",
    });
    const live = await call("GET", "/api/live", { anonymous: true, headers: { cookie } });
    expect(live.json<LiveConfig>()).toMatchObject({ port: s.wsPort, path: "/mqtt", username: "rrpc-live" });
    const out = await call("DELETE", "/api/session", { anonymous: true, headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^rrpc_session=; .*Max-Age=0/);
  });

  it("Tencent's PublishRRPCMessage on / with X-TC-Action, every method in its envelope", async () => {
    const host = new URL(s.url).host;
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      exercised.add(`${method} /`);
      const timestamp = Math.floor(Date.now() / 1000);
      const params = { ProductId: "AIRCOND001", DeviceName: "airConditioner1", Payload: "closed" };
      const rawQuery = method === "GET" ? new URLSearchParams(params).toString() : "";
      const body = method === "GET" ? "" : JSON.stringify(params);
      const contentType = method === "GET" ? "application/x-www-form-urlencoded" : "application/json";
      const authorization = signTc3({
        method,
        host,
        contentType,
        body,
        rawQuery,
        timestamp,
        service: "iotcloud",
        secretId: KEY.secretId,
        secretKey: KEY.secretKey,
      });
      const r = await fetch(`${s.url}/${rawQuery ? `?${rawQuery}` : ""}`, {
        method,
        headers: {
          authorization,
          "content-type": contentType,
          "x-tc-action": "PublishRRPCMessage",
          "x-tc-version": "2021-04-08",
          "x-tc-timestamp": String(timestamp),
        },
        body: body || undefined,
      });
      expect(r.status, method).toBe(200);
      const answer = ((await r.json()) as { Response: { PayloadBase64?: string; Error?: { Code: string } } }).Response;
      if (method === "GET" || method === "POST") expect(answer.PayloadBase64, method).toBe(Buffer.from("ok").toString("base64"));
      else expect(answer.Error?.Code, method).toBe("UnsupportedProtocol");
    }
  });

  it("covered every route of the table", () => {
    expect([...exercised].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });
});
