/**
 * Every operation of the routing table, once, through the production server (dist/server.mjs)
 * with sign-in on: each "caller" route refuses an anonymous request with 401 and answers an
 * API key; the list of operations exercised must equal the table, so a new route needs a test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "./routes";
import { registerDevice, startMosquitto, startServer, type ServerHandle } from "../testing/servers";
import { deviceCredentials } from "../auth/device-auth";
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
  UserInfo,
  UserList,
  Command,
  CommandList,
  BatchJson,
  BatchList,
  BatchTargetsPage,
  CallStats,
  DevicePresence,
  DeviceStatsRanking,
  ProductInfo,
  ProductList,
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
      if (r.path === "/" || r.path === "/metrics") continue; // Tencent's API and the metrics: their own checks, below
      const path = r.path
        .replace(":processId", "1000000000")
        .replace(":productId", "AIRCOND001")
        .replace(":deviceName", "x")
        .replace(":secretId", "AKIDx")
        .replace(":id", "cmd_x")
        .replace(":batchId", "b_x");
      const res = await fetch(`${s.url}${path}`, {
        method: r.method,
        headers: { "content-type": "application/json" },
        body: r.method === "GET" || r.method === "DELETE" ? undefined : "{}",
      });
      if (r.access !== "public") {
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
      productLimits: {},
    });

    const made = await call("POST", "/api/calls", { body: { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" } });
    expect(made.status).toBe(200);
    const callJson = made.json<CallJson>();
    expect(callJson).toMatchObject({ status: "success", reply: { payloadText: "ok" }, caller: { kind: "api_key", id: KEY.secretId } });

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

  it("products: list, read, set and clear a request-size limit", async () => {
    const listed = await call("GET", "/api/products");
    expect(listed.json<ProductList>().products.find((p) => p.productId === "AIRCOND001")).toEqual({
      productId: "AIRCOND001",
      devices: 1,
      maxRequestBytes: null,
      effectiveMaxRequestBytes: 131072,
      updatedAt: null,
    });
    const set = await call("PUT", "/api/products/AIRCOND001", { body: { maxRequestBytes: 4 }, route: "/api/products/:productId" });
    expect(set.json<ProductInfo>()).toMatchObject({ productId: "AIRCOND001", maxRequestBytes: 4, effectiveMaxRequestBytes: 4 });
    const one = await call("GET", "/api/products/AIRCOND001", { route: "/api/products/:productId" });
    expect(one.json<ProductInfo>()).toEqual(set.json<ProductInfo>());
    expect((await call("GET", "/api/limits")).json<Limits>().productLimits).toEqual({ AIRCOND001: 4 });
    const refused = await call("POST", "/api/calls", { body: { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" } });
    expect(refused.status).toBe(413);
    expect(refused.json<{ error: { message: string } }>().error.message).toBe(
      "the payload is 6 bytes; product AIRCOND001 accepts at most 4 (its devices' receive buffer)",
    );
    const bad = await call("PUT", "/api/products/AIRCOND001", { body: { maxRequestBytes: -1 }, route: "/api/products/:productId" });
    expect(bad.status).toBe(400);
    const cleared = await call("PUT", "/api/products/AIRCOND001", { body: { maxRequestBytes: null }, route: "/api/products/:productId" });
    expect(cleared.json<ProductInfo>()).toMatchObject({ maxRequestBytes: null, effectiveMaxRequestBytes: 131072 });
  });

  it("commands: create, list, read, update, run, delete", async () => {
    const body = { name: "Routes set", payload: `{"t":{{t}}}`, params: [{ name: "t", type: "integer", min: 0, max: 40 }] };
    const created = await call("POST", "/api/commands", { body });
    expect(created.status).toBe(201);
    const cmd = created.json<Command>();
    expect((await call("GET", "/api/commands")).json<CommandList>().commands.map((c) => c.id)).toEqual([cmd.id]);
    expect((await call("GET", `/api/commands/${cmd.id}`, { route: "/api/commands/:id" })).json<Command>()).toEqual(cmd);
    const updated = await call("PUT", `/api/commands/${cmd.id}`, { body: { ...body, name: "Routes set 2" }, route: "/api/commands/:id" });
    expect(updated.json<Command>().name).toBe("Routes set 2");
    const ran = await call("POST", "/api/calls", {
      body: { productId: "AIRCOND001", deviceName: "airConditioner1", commandId: cmd.id, params: { t: 22 } },
    });
    expect(ran.json<CallJson>()).toMatchObject({ status: "success", commandId: cmd.id, request: { payloadText: `{"t":22}` } });
    const deleted = await call("DELETE", `/api/commands/${cmd.id}`, { route: "/api/commands/:id" });
    expect(deleted.status).toBe(204);
  });

  it("batches: start and wait, list, read, targets, export, retry, cancel", async () => {
    const devices = [
      { productId: "AIRCOND001", deviceName: "airConditioner1" },
      { productId: "AIRCOND001", deviceName: "notRegistered" },
    ];
    const started = await call("POST", "/api/batches?wait=1", { body: { targets: { devices }, payload: "status" } });
    expect(started.status).toBe(200);
    const b = started.json<BatchJson>();
    expect(b).toMatchObject({ status: "done", total: 2, counts: { success: 1, device_not_found: 1 }, createdBy: `api_key:${KEY.secretId}` });
    expect((await call("GET", "/api/batches")).json<BatchList>().batches[0]?.batchId).toBe(b.batchId);
    expect((await call("GET", `/api/batches/${b.batchId}`, { route: "/api/batches/:batchId" })).json<BatchJson>()).toEqual(b);
    const targets = await call("GET", `/api/batches/${b.batchId}/targets?status=success`, { route: "/api/batches/:batchId/targets" });
    expect(targets.json<BatchTargetsPage>().targets.map((t) => t.deviceName)).toEqual(["airConditioner1"]);
    const csv = await call("GET", `/api/batches/${b.batchId}/export?format=csv`, { route: "/api/batches/:batchId/export" });
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.text.split("\r\n")[2]).toBe("1,AIRCOND001,notRegistered,device_not_found,");
    const retry = await call("POST", `/api/batches/${b.batchId}/retry`, { body: {}, route: "/api/batches/:batchId/retry" });
    expect(retry.status).toBe(202);
    expect(retry.json<BatchJson>()).toMatchObject({ total: 1, retryOf: b.batchId });
    const cancel = await call("POST", `/api/batches/${b.batchId}/cancel`, { route: "/api/batches/:batchId/cancel" });
    expect(cancel.status).toBe(409);
  });

  it("stats, presence and metrics", async () => {
    const from = Date.now() - 3_600_000;
    const stats = await call("GET", `/api/stats?deviceName=airConditioner1&from=${from}&bucket=60`);
    expect(stats.status).toBe(200);
    const { buckets } = stats.json<CallStats>();
    expect(buckets.length).toBe(61);
    expect(buckets.reduce((n, b) => n + b.success, 0)).toBeGreaterThanOrEqual(1);
    const tooMany = await call("GET", `/api/stats?from=${from}&bucket=1`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.json<{ error: { code: string; fields: { field: string }[] } }>().error).toMatchObject({
      code: "invalid_request",
      fields: [{ field: "query.bucket" }],
    });
    const devices = await call("GET", `/api/stats/devices?from=${from}`);
    expect(devices.json<DeviceStatsRanking>().slowest.map((d) => d.deviceName)).toContain("airConditioner1");
    const presence = await call("GET", "/api/devices/AIRCOND001/airConditioner1/presence", { route: "/api/devices/:productId/:deviceName/presence" });
    expect(presence.json<DevicePresence>()).toMatchObject({ tracked: true, complete: true, changes: [{ online: true }] });

    const metrics = await call("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toMatch(/^rrpc_calls_total\{status="success",source="api"\} [1-9]/m);
    expect(metrics.text).toMatch(/^rrpc_batches_total\{status="done"\} [1-9]/m);
    expect((await call("GET", "/metrics", { anonymous: true })).status).toBe(401);
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

  it("users: add, list, change role, remove", async () => {
    const added = await call("POST", "/api/users", { body: { name: "routes-viewer", role: "viewer", password: "a routes test password" } });
    expect(added.status).toBe(201);
    expect(added.json<UserInfo>()).toMatchObject({ name: "routes-viewer", role: "viewer", disabled: false });
    expect(added.text).not.toContain("password");
    const listed = await call("GET", "/api/users");
    expect(listed.json<UserList>().users.map((u) => [u.name, u.role])).toEqual([
      ["admin", "admin"],
      ["routes-viewer", "viewer"],
    ]);
    const changed = await call("PATCH", "/api/users/routes-viewer", { body: { role: "operator" }, route: "/api/users/:name" });
    expect(changed.json<UserInfo>().role).toBe("operator");
    const lastAdmin = await call("PATCH", "/api/users/admin", { body: { role: "viewer" }, route: "/api/users/:name" });
    expect(lastAdmin.status).toBe(409);
    expect((await call("DELETE", "/api/users/routes-viewer", { route: "/api/users/:name" })).status).toBe(204);
  });

  it("session: ask, sign in, sign out; live credentials", async () => {
    expect((await call("GET", "/api/session", { anonymous: true })).json<SessionInfo>()).toEqual({ required: true, user: null, role: null });
    const wrong = await call("POST", "/api/session", { anonymous: true, body: { user: "admin", password: "not it at all" } });
    expect(wrong.status).toBe(401);
    const ok = await call("POST", "/api/session", { anonymous: true, body: { user: "admin", password: PASSWORD } });
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call("GET", "/api/session", { anonymous: true, headers: { cookie } })).json<SessionInfo>()).toEqual({
      required: true,
      user: "admin",
      role: "admin",
    });
    const made = await call("POST", "/api/calls", {
      anonymous: true,
      headers: { cookie },
      body: { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "by the operator" },
    });
    expect(made.json<CallJson>().caller).toEqual({ kind: "operator", id: "admin", name: "admin" });
    const mine = await call("GET", "/api/calls?callerKind=operator&callerId=admin");
    expect(mine.json<CallsPage>().calls.map((c) => c.processId)).toEqual([made.json<CallJson>().processId]);
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

  it("records who made each call: Tencent's key as tencent_key", async () => {
    const viaTencent = await call("GET", "/api/calls?callerKind=tencent_key&limit=500");
    const calls = viaTencent.json<CallsPage>().calls;
    expect(calls.length).toBe(2);
    for (const c of calls) expect(c.caller).toEqual({ kind: "tencent_key", id: KEY.secretId, name: "bootstrap" });
  });

  it("the broker hooks: off without RRPC_BROKER_HOOK_SECRET (404); with it and MQTT_URL, the secret is the authentication", async () => {
    for (const hook of ["authn", "authz"]) expect((await call("POST", `/api/broker/${hook}`, { anonymous: true, body: {} })).status).toBe(404);
    const mosquitto = await startMosquitto();
    const secret = "routes-test-broker-hook-secret-0123456789";
    const hooked = await startServer({ MQTT_URL: mosquitto.url, RRPC_BROKER_HOOK_SECRET: secret, RRPC_SIMULATOR: "0" });
    try {
      const creds = deviceCredentials("ROUTES0002", "h1", await registerDevice(hooked, "ROUTES0002", "h1"));
      const hook = async (name: string, body: unknown, bearer = secret) => {
        const r = await fetch(`${hooked.url}/api/broker/${name}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
          body: JSON.stringify(body),
        });
        return { status: r.status, body: (await r.json()) as { result?: string; error?: { code: string } } };
      };
      const login = { clientid: creds.clientId, username: creds.username, password: creds.password };
      expect(await hook("authn", login)).toEqual({ status: 200, body: { result: "allow", is_superuser: false } });
      expect(await hook("authn", login, "wrong")).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
      const sub = { clientid: creds.clientId, username: creds.username, topic: "$rrpc/rxd/ROUTES0002/h1/+", action: "subscribe" };
      expect(await hook("authz", sub)).toEqual({ status: 200, body: { result: "allow" } });
      expect(await hook("authz", { ...sub, topic: "$rrpc/rxd/ROUTES0002/h2/+" })).toEqual({ status: 200, body: { result: "deny" } });
    } finally {
      await hooked.stop();
      await mosquitto.stop();
    }
  });

  it("covered every route of the table", () => {
    expect([...exercised].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });
});
