/**
 * npm run keys -- user …: team accounts on the hub's database from the command line, against the
 * production server: a user added by the CLI signs in with their role; no password is printed.
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { startServer, tempDir, type ServerHandle } from "../lib/server/testing/servers";

const root = join(__dirname, "..");
const NEW_PASSWORD = "a password from the cli";

function keys(dbPath: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "scripts", "keys.ts"), ...args], {
    env: { ...process.env, RRPC_DB: dbPath, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  return new Promise((resolve) => proc.once("exit", (code) => resolve({ code, out })));
}

describe("npm run keys -- user", () => {
  let s: ServerHandle | null = null;
  afterAll(async () => {
    await s?.stop();
  });

  it("adds, lists, changes and removes users; the added user signs in with the role", async () => {
    const db = join(tempDir(), "rrpc.db");
    const add = await keys(db, ["user", "add", "carol", "--role", "viewer"], { RRPC_NEW_PASSWORD: NEW_PASSWORD });
    expect(add).toEqual({ code: 0, out: "added carol (viewer)\n" });
    expect((await keys(db, ["user", "add", "dave", "--role", "operator", "--password", NEW_PASSWORD])).code).toBe(0);
    const short = await keys(db, ["user", "add", "erin", "--role", "viewer", "--password", "short"]);
    expect(short.code).toBe(1);
    expect(short.out).toContain("at least 12 characters");
    const badRole = await keys(db, ["user", "add", "erin", "--role", "root", "--password", NEW_PASSWORD]);
    expect(badRole.code).toBe(1);
    expect(badRole.out).toContain("viewer, operator or admin");
    expect((await keys(db, ["user", "role", "dave", "admin"])).out).toBe("dave is now admin\n");
    const list = await keys(db, ["user", "list", "--json"]);
    expect((JSON.parse(list.out) as { name: string; role: string }[]).map((u) => [u.name, u.role])).toEqual([
      ["carol", "viewer"],
      ["dave", "admin"],
    ]);
    const lastAdmin = await keys(db, ["user", "remove", "dave"]);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.out).toContain("dave is the last enabled admin");
    expect((await keys(db, ["user", "add", "erin", "--role", "viewer", "--password", NEW_PASSWORD])).code).toBe(0);
    expect(await keys(db, ["user", "remove", "erin"])).toEqual({ code: 0, out: "removed erin; their sessions ended\n" });
    const all = [add.out, list.out].join("");
    expect(all).not.toContain(NEW_PASSWORD);
    expect(all).not.toContain("scrypt");

    s = await startServer({ RRPC_DB: db, RRPC_OPERATOR_PASSWORD: "the configured admin password", RRPC_SIMULATOR: "0" });
    const r = await fetch(`${s.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "carol", password: NEW_PASSWORD }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ required: true, user: "carol", role: "viewer" });
    const gone = await fetch(`${s.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "erin", password: NEW_PASSWORD }),
    });
    expect(gone.status).toBe(401);
  }, 120_000);
});
