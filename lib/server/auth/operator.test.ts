/**
 * Operator access through the production server: loopback-only needs no sign-in; listening
 * beyond loopback needs operator credentials, then the dashboard needs sign-in and the API a key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnServer, startServer, type ServerHandle } from "../testing/servers";

const KEY = { secretId: "AKIDoperatortest000000000000000001", secretKey: "operatorTestSecretKey00000000001" };
const PASSWORD = "correct horse battery staple";
const basic = (id: string, key: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${key}`).toString("base64")}` });

describe("listening beyond loopback", () => {
  it("refuses to start without operator credentials, with a clear message", async () => {
    const cases: Record<string, string>[] = [{ HOST: "0.0.0.0" }, { MQTT_HOST: "0.0.0.0" }, { MQTT_WS_HOST: "0.0.0.0" }];
    for (const env of cases) {
      const srv = await spawnServer(env);
      const code = await Promise.race([srv.exited, new Promise<string>((r) => setTimeout(() => r("still running"), 20_000))]);
      if (code === "still running") srv.proc.kill("SIGKILL");
      expect(code, JSON.stringify(env)).not.toBe(0);
      expect(code).not.toBe("still running");
      expect(srv.output()).toContain(`refusing to start: listening beyond loopback (${Object.keys(env)[0]}=0.0.0.0`);
      expect(srv.output()).toContain("needs operator credentials");
      expect(srv.output()).toContain("Set RRPC_OPERATOR_PASSWORD");
    }
  });
});

describe("with operator credentials", () => {
  let s: ServerHandle;
  beforeAll(async () => {
    s = await startServer({ HOST: "0.0.0.0", RRPC_OPERATOR_PASSWORD: PASSWORD, RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("sends browsers to sign in, and refuses the API without a key or session", async () => {
    const page = await fetch(`${s.url}/`, { redirect: "manual" });
    expect([303, 307, 308]).toContain(page.status);
    expect(page.headers.get("location")).toMatch(/\/login$/);
    expect((await fetch(`${s.url}/login`)).status).toBe(200);
    for (const path of ["/api/calls", "/api/devices", "/api/keys", "/api/live"]) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status, path).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    const wrong = await fetch(`${s.url}/api/calls`, { headers: basic(KEY.secretId, "nope") });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
  });

  it("lets a program in with its API key (HTTP Basic)", async () => {
    const r = await fetch(`${s.url}/api/calls`, {
      method: "POST",
      headers: { "content-type": "application/json", ...basic(KEY.secretId, KEY.secretKey) },
      body: JSON.stringify({ productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { reply: { payloadText: string } }).reply.payloadText).toBe("ok");
  });

  it("signs an operator in with a password (scrypt), with an HttpOnly SameSite session cookie, and out again", async () => {
    const bad = await fetch(`${s.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "admin", password: "wrong" }),
    });
    expect(bad.status).toBe(401);
    const ok = await fetch(`${s.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "admin", password: PASSWORD }),
    });
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^rrpc_session=/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    const cookie = setCookie.split(";")[0]!;

    expect((await fetch(`${s.url}/`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${s.url}/api/calls`, { headers: { cookie } })).status).toBe(200);
    const live = (await (await fetch(`${s.url}/api/live`, { headers: { cookie } })).json()) as {
      username: string;
      password: string;
      expiresAt: number;
    };
    expect(live.username).toBe("rrpc-live");
    expect(live.password.length).toBeGreaterThan(20);
    expect(live.expiresAt - Date.now()).toBeLessThanOrEqual(10 * 60 * 1000);

    const forged = cookie.slice(0, -3) + "abc";
    expect((await fetch(`${s.url}/api/calls`, { headers: { cookie: forged } })).status).toBe(401);
    const out = await fetch(`${s.url}/api/session`, { method: "DELETE", headers: { cookie } });
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
  });

  it("never sends a secret to the browser: key listings and device listings have none", async () => {
    const keys = await (await fetch(`${s.url}/api/keys`, { headers: basic(KEY.secretId, KEY.secretKey) })).text();
    expect(keys).toContain(KEY.secretId);
    expect(keys).not.toContain(KEY.secretKey);
    const devices = await (await fetch(`${s.url}/api/devices`, { headers: basic(KEY.secretId, KEY.secretKey) })).text();
    expect(devices).not.toMatch(/secret/i);
    expect(s.output()).not.toContain(KEY.secretKey);
    expect(s.output()).not.toContain(PASSWORD);
  });
});

describe("OperatorSignIn", () => {
  it("refuses even the right password while a user name is throttled, until its wait is over", async () => {
    const { OperatorSignIn } = await import("./operator");
    const { Throttle } = await import("./throttle");
    const { TokenSigner, hashPassword } = await import("./tokens");
    const { Users } = await import("./users");
    const { openSqlite } = await import("../store/open");
    const users = new Users(openSqlite(":memory:"));
    const passwordHash = hashPassword(PASSWORD);
    await users.ensureAdmin("admin", passwordHash);
    let now = 0;
    const signIn = new OperatorSignIn({ user: "admin", passwordHash }, new TokenSigner(), users, new Throttle(() => now, 1, 1000, 60_000));
    const reason = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: { reason: string }) => e.reason,
      );
    expect(await reason(signIn.signIn("nobody", PASSWORD, "10.0.0.9"))).toBe("bad_credentials");
    expect(await reason(signIn.signIn("admin", "wrong", "10.0.0.1"))).toBe("bad_credentials");
    expect(await reason(signIn.signIn("admin", "wrong", "10.0.0.1"))).toBe("bad_credentials");
    // The user name is throttled, from any address.
    expect(await reason(signIn.signIn("admin", PASSWORD, "10.0.0.2"))).toBe("throttled");
    now += 999;
    expect(await reason(signIn.signIn("admin", PASSWORD, "10.0.0.2"))).toBe("throttled");
    now += 1;
    expect(await reason(signIn.signIn("admin", PASSWORD, "10.0.0.2"))).toBe("ok");
  });
});
