/**
 * Operator sessions outlive a restart of the server (their signing key is kept in the database),
 * and end when the operator password changes. Against the production server.
 */
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { startServer, tempDir, type ServerHandle } from "../testing/servers";

const FIRST = "correct horse battery staple";
const SECOND = "another long operator password";
let running: ServerHandle | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function start(dbPath: string, password: string): Promise<ServerHandle> {
  running = await startServer({ RRPC_DB: dbPath, RRPC_OPERATOR_PASSWORD: password, RRPC_SIMULATOR: "0" });
  return running;
}

async function signIn(s: ServerHandle, password: string): Promise<string> {
  const r = await fetch(`${s.url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "admin", password }),
  });
  expect(r.status).toBe(200);
  return r.headers.get("set-cookie")!.split(";")[0]!;
}

const withCookie = (s: ServerHandle, cookie: string) => fetch(`${s.url}/api/calls?limit=1`, { headers: { cookie } }).then((r) => r.status);

describe("operator sessions", () => {
  it("survive a restart, and end when the password changes", async () => {
    const db = join(tempDir(), "rrpc.db");
    let s = await start(db, FIRST);
    const cookie = await signIn(s, FIRST);
    expect(await withCookie(s, cookie)).toBe(200);
    await s.stop();

    s = await start(db, FIRST);
    expect(await withCookie(s, cookie)).toBe(200);
    await s.stop();

    s = await start(db, SECOND);
    expect(await withCookie(s, cookie)).toBe(401);
    expect(await withCookie(s, await signIn(s, SECOND))).toBe(200);
  });

  it("are not valid on another hub's database", async () => {
    const s = await start(join(tempDir(), "a.db"), FIRST);
    const cookie = await signIn(s, FIRST);
    await s.stop();
    const other = await start(join(tempDir(), "b.db"), FIRST);
    expect(await withCookie(other, cookie)).toBe(401);
  });
});
