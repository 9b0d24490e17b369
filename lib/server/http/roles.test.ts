/**
 * Roles through the production server with sign-in on: every route of ROUTES × each kind of
 * caller (a viewer's, an operator's and an admin's session, an operator API key, nobody) is let
 * through or refused exactly as the route's `access` in ROUTES says: the one route→role table.
 * Then: a role change applies to the next request, disabling or removing a user ends their
 * sessions, signing out ends a session everywhere (a copied cookie too), and sessions that were
 * not signed out survive a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ROUTES } from "./routes";
import { roleAllows, type Role } from "../auth/roles";
import { startServer, tempDir, type ServerHandle } from "../testing/servers";
import { publishRrpc } from "../testing/hub";
import type { NewApiKey, SessionInfo } from "../../rrpc/api";

const PASSWORD = "roles test admin password";
const USER_PASSWORD = "roles test user password";
const KEY = { secretId: "AKIDrolestest000000000000000000001", secretKey: "rolesTestSecretKey00000000000001" };
const basic = (id: string, key: string) => `Basic ${Buffer.from(`${id}:${key}`).toString("base64")}`;
const ADMIN_KEY = { authorization: basic(KEY.secretId, KEY.secretKey) };

/** Who calls, and the role they act with (null: nobody). */
type Who = { name: string; role: Role | null; headers: Record<string, string> };

let s: ServerHandle;
const dbPath = join(tempDir(), "rrpc.db");

async function api(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const r = await fetch(`${s.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, json: <T>() => JSON.parse(text) as T, text };
}

async function signIn(user: string, password: string): Promise<string> {
  const r = await api("POST", "/api/session", {}, { user, password });
  expect(r.status, `${user} signs in`).toBe(200);
  return r.headers.get("set-cookie")!.split(";")[0]!;
}

async function addUser(name: string, role: Role) {
  const r = await api("POST", "/api/users", ADMIN_KEY, { name, role, password: USER_PASSWORD });
  expect(r.status, r.text).toBe(201);
}

const PARAMS: Record<string, string> = {
  processId: "1000000000",
  productId: "AIRCOND001",
  deviceName: "nobody-x",
  secretId: "AKIDx",
  id: "cmd_x",
  batchId: "b_x",
  name: "nobody-x",
};
const pathOf = (p: string) => p.replace(/:([A-Za-z]+)/g, (_, k: string) => PARAMS[k]!);

beforeAll(async () => {
  s = await startServer({ RRPC_DB: dbPath, RRPC_OPERATOR_PASSWORD: PASSWORD, RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
  await addUser("viewer1", "viewer");
  await addUser("operator1", "operator");
  await addUser("admin2", "admin");
});
afterAll(async () => {
  await s?.stop();
});

describe("each route × each role, as ROUTES says", () => {
  it("lets a caller through when their role is at least the route's, refuses a lower role with 403 naming it, and nobody with 401", async () => {
    const key = (await api("POST", "/api/keys", ADMIN_KEY, { name: "roles operator key" })).json<NewApiKey>();
    const callers: Who[] = [
      { name: "viewer session", role: "viewer", headers: { cookie: await signIn("viewer1", USER_PASSWORD) } },
      { name: "operator session", role: "operator", headers: { cookie: await signIn("operator1", USER_PASSWORD) } },
      { name: "admin session", role: "admin", headers: { cookie: await signIn("admin2", USER_PASSWORD) } },
      { name: "API key (operator by default)", role: "operator", headers: { authorization: basic(key.secretId, key.secretKey) } },
      { name: "nobody", role: null, headers: {} },
    ];
    // Signing out last: it ends the session the following requests would use.
    const routes = ROUTES.filter((r) => r.path !== "/" && r.path !== "/metrics").sort(
      (a, b) => Number(a.method === "DELETE" && a.path === "/api/session") - Number(b.method === "DELETE" && b.path === "/api/session"),
    );
    let checked = 0;
    for (const who of callers) {
      for (const r of routes) {
        const what = `${who.name}: ${r.method} ${r.path} (${r.access})`;
        const res = await api(r.method, pathOf(r.path), who.headers, r.method === "GET" || r.method === "DELETE" ? undefined : {});
        checked++;
        if (r.access === "public") {
          expect([401, 403], what).not.toContain(res.status);
        } else if (who.role === null) {
          expect(res.status, what).toBe(401);
          expect(res.json<{ error: { code: string } }>().error.code, what).toBe("unauthorized");
        } else if (roleAllows(who.role, r.access)) {
          expect([401, 403], `${what}: ${res.text}`).not.toContain(res.status);
        } else {
          expect(res.status, what).toBe(403);
          const { error } = res.json<{ error: { code: string; message: string } }>();
          expect(error.code, what).toBe("forbidden");
          expect(error.message, what).toContain(`needs role ${r.access}`);
        }
      }
    }
    expect(checked).toBe(callers.length * routes.length);
  });

  it("sends calls with the operator role: a viewer key is refused by Tencent's API too", async () => {
    const viewerKey = (await api("POST", "/api/keys", ADMIN_KEY, { name: "viewer key", role: "viewer" })).json<NewApiKey>();
    const headers = { authorization: basic(viewerKey.secretId, viewerKey.secretKey) };
    expect((await api("GET", "/api/calls?limit=1", headers)).status).toBe(200);
    const refused = await api("POST", "/api/calls", headers, { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "x" });
    expect(refused.status).toBe(403);
    expect(refused.json<{ error: { message: string } }>().error.message).toBe("needs role operator; your role is viewer");
    const tc = await publishRrpc(s.url, viewerKey, { ProductId: "AIRCOND001", DeviceName: "airConditioner1", Payload: "x" });
    expect(tc.response.Error?.Code).toBe("UnauthorizedOperation");
  });

  it("metrics: any signed-in role, nobody refused", async () => {
    expect((await api("GET", "/metrics", {})).status).toBe(401);
    expect((await api("GET", "/metrics", { cookie: await signIn("viewer1", USER_PASSWORD) })).status).toBe(200);
  });
});

describe("sessions follow their user", () => {
  it("GET /api/session gives the user and role; a role change applies to the next request", async () => {
    await addUser("changing", "viewer");
    const cookie = await signIn("changing", USER_PASSWORD);
    expect((await api("GET", "/api/session", { cookie })).json<SessionInfo>()).toEqual({ required: true, user: "changing", role: "viewer" });
    const send = () => api("POST", "/api/calls", { cookie }, { productId: "AIRCOND001", deviceName: "airConditioner1", payload: "x" });
    expect((await send()).status).toBe(403);
    expect((await api("PATCH", "/api/users/changing", ADMIN_KEY, { role: "operator" })).status).toBe(200);
    expect((await send()).status).toBe(200);
    expect((await api("GET", "/api/session", { cookie })).json<SessionInfo>().role).toBe("operator");
  });

  it("disabling a user ends their sessions and refuses their sign-in; removing one too", async () => {
    await addUser("leaving", "operator");
    const cookie = await signIn("leaving", USER_PASSWORD);
    expect((await api("GET", "/api/calls?limit=1", { cookie })).status).toBe(200);
    expect((await api("PATCH", "/api/users/leaving", ADMIN_KEY, { disabled: true })).status).toBe(200);
    expect((await api("GET", "/api/calls?limit=1", { cookie })).status).toBe(401);
    expect((await api("POST", "/api/session", {}, { user: "leaving", password: USER_PASSWORD })).status).toBe(401);
    expect((await api("PATCH", "/api/users/leaving", ADMIN_KEY, { disabled: false })).status).toBe(200);
    const again = await signIn("leaving", USER_PASSWORD);
    expect((await api("DELETE", "/api/users/leaving", ADMIN_KEY)).status).toBe(204);
    expect((await api("GET", "/api/calls?limit=1", { cookie: again })).status).toBe(401);
  });

  it("signing out ends the session on the server (a copied cookie gets 401); a session not signed out survives a restart", async () => {
    const kept = await signIn("operator1", USER_PASSWORD);
    const copied = await signIn("operator1", USER_PASSWORD);
    expect((await api("GET", "/api/calls?limit=1", { cookie: copied })).status).toBe(200);
    expect((await api("DELETE", "/api/session", { cookie: copied })).status).toBe(204);
    const after = await api("GET", "/api/calls?limit=1", { cookie: copied });
    expect(after.status).toBe(401);
    expect(after.json<{ error: { code: string } }>().error.code).toBe("unauthorized");
    expect((await api("GET", "/api/session", { cookie: copied })).json<SessionInfo>()).toEqual({ required: true, user: null, role: null });
    expect((await api("GET", "/api/calls?limit=1", { cookie: kept })).status).toBe(200);

    await s.stop();
    s = await startServer({ RRPC_DB: dbPath, RRPC_OPERATOR_PASSWORD: PASSWORD, RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
    expect((await api("GET", "/api/calls?limit=1", { cookie: kept })).status).toBe(200);
    expect((await api("GET", "/api/session", { cookie: kept })).json<SessionInfo>()).toEqual({ required: true, user: "operator1", role: "operator" });
    expect((await api("GET", "/api/calls?limit=1", { cookie: copied })).status).toBe(401);
  });
});

describe("sign-in off (loopback, no password)", () => {
  it("the local caller may do everything: GET /api/session says admin, an admin route answers", async () => {
    const local = await startServer({ RRPC_SIMULATOR: "0" });
    try {
      const session = await fetch(`${local.url}/api/session`);
      expect(await session.json()).toEqual({ required: false, user: null, role: "admin" });
      expect((await fetch(`${local.url}/api/users`)).status).toBe(200);
      expect((await fetch(`${local.url}/api/keys`)).status).toBe(200);
    } finally {
      await local.stop();
    }
  });
});
