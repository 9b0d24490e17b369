/**
 * Attack suite (issue: hardening), finding 4 — sign-in blocked the event loop (scryptSync), had
 * no throttling, and told known from unknown user names by its speed. Against the production
 * server: calls keep succeeding while wrong sign-ins pour in; repeated failures are answered 429
 * with Retry-After; an unknown user name gets the very same answer as a wrong password. (That the
 * right password waits too is shown with a driven clock in operator.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type ServerHandle } from "../testing/servers";

const PASSWORD = "sign-in attack password";
const KEY = { secretId: "AKIDsignin000000000000000000000001", secretKey: "signinSecretKey00000000000000001" };
const basic = `Basic ${Buffer.from(`${KEY.secretId}:${KEY.secretKey}`).toString("base64")}`;
let s: ServerHandle;
beforeAll(async () => {
  s = await startServer({ RRPC_OPERATOR_PASSWORD: PASSWORD, RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
});
afterAll(async () => {
  await s?.stop();
});

const signIn = (user: string, password: string) =>
  fetch(`${s.url}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ user, password }) });

describe("finding 4: sign-in", () => {
  it("calls keep succeeding while wrong sign-ins pour in, and the sign-ins get 401 or 429, never 500", async () => {
    const attempts = Array.from({ length: 24 }, (_, i) => signIn("admin", `wrong ${i}`).then((r) => r.status));
    const calls = Array.from({ length: 20 }, () =>
      fetch(`${s.url}/api/calls`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: basic },
        body: JSON.stringify({ productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" }),
      }).then((r) => r.status),
    );
    expect(await Promise.all(calls)).toEqual(Array(20).fill(200));
    const statuses = await Promise.all(attempts);
    expect(statuses.filter((x) => x !== 401 && x !== 429)).toEqual([]);
    expect(statuses).toContain(429);
  });

  it("answers repeated failures with 429 and Retry-After", async () => {
    // Each failure past the free ones doubles the wait, so within a few attempts the wait outlasts
    // a round trip on any machine.
    let last: Response | null = null;
    for (let i = 0; i < 12; i++) {
      last = await signIn("admin", `still wrong ${i}`);
      if (last.status === 429) break;
      expect(last.status).toBe(401);
    }
    expect(last?.status).toBe(429);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await last!.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
  });
});

describe("finding 4: no user-name enumeration", () => {
  let fresh: ServerHandle;
  beforeAll(async () => {
    fresh = await startServer({ RRPC_OPERATOR_PASSWORD: PASSWORD });
  });
  afterAll(async () => {
    await fresh?.stop();
  });

  it("an unknown user name gets exactly the answer of a wrong password", async () => {
    const post = (user: string) =>
      fetch(`${fresh.url}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user, password: "not it" }),
      });
    const known = await post("admin");
    const unknown = await post("nobody-here");
    expect([known.status, unknown.status]).toEqual([401, 401]);
    expect(await unknown.json()).toEqual(await known.json());
  });
});
