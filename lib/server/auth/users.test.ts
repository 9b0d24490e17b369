/** Team accounts and their sessions on a real SQLite file and a real PostgreSQL database (store/migrations.ts step 6). */
import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { migrate, MIGRATIONS } from "../store/migrations";
import { Users } from "./users";
import { storeBackends } from "../testing/backends";
import { closeAfterTest } from "../testing/db";

describe.each(storeBackends())("Users on $name", (backend) => {
  const users = async () => new Users(closeAfterTest(await backend.open()));

  it("keeps an enabled admin: the last one cannot be demoted, disabled or removed", async () => {
    const u = await users();
    await u.ensureAdmin("admin", "h1");
    for (const attempt of [() => u.setRole("admin", "viewer"), () => u.setDisabled("admin", true), () => u.remove("admin")]) {
      await expect(attempt()).rejects.toThrow("admin is the last enabled admin");
    }
    await u.add("second", "admin", "h2");
    await u.setRole("admin", "operator");
    expect((await u.get("admin"))?.role).toBe("operator");
    await expect(u.add("Second", "viewer", "h3")).rejects.toThrow("a user named Second already exists");
  });

  it("ends sessions on sign-out, disabling, a new password and removal; follows role changes", async () => {
    const u = await users();
    await u.ensureAdmin("admin", "h1");
    await u.add("ann", "viewer", "h");
    const a = await u.startSession("ann", 60_000);
    const b = await u.startSession("ann", 60_000);
    expect(await u.sessionUser(a.id)).toEqual({ name: "ann", role: "viewer" });
    await u.setRole("ann", "operator");
    expect(await u.sessionUser(a.id)).toEqual({ name: "ann", role: "operator" });
    await u.endSession(a.id);
    expect(await u.sessionUser(a.id)).toBeNull();
    expect(await u.sessionUser(b.id)).not.toBeNull();
    await u.setDisabled("ann", true);
    expect(await u.sessionUser(b.id)).toBeNull();
    await u.setDisabled("ann", false);
    const c = await u.startSession("ann", 60_000);
    await u.setPasswordHash("ann", "h2");
    expect(await u.sessionUser(c.id)).toBeNull();
    const d = await u.startSession("ann", 60_000);
    await u.remove("ann");
    expect(await u.sessionUser(d.id)).toBeNull();
    const expired = await u.startSession("admin", 1000, 0);
    expect(await u.sessionUser(expired.id, 999)).not.toBeNull();
    expect(await u.sessionUser(expired.id, 1000)).toBeNull();
  });

  it("the configured admin: made at start, its password from the configuration (a new one ends its sessions)", async () => {
    const u = await users();
    await u.ensureAdmin("admin", "h1");
    await u.add("other", "admin", "h");
    await u.setRole("admin", "viewer");
    const s = await u.startSession("admin", 60_000);
    await u.ensureAdmin("admin", "h1");
    expect(await u.get("admin")).toMatchObject({ role: "admin", disabled: false });
    expect(await u.sessionUser(s.id)).not.toBeNull();
    await u.ensureAdmin("admin", "h2");
    expect((await u.passwordHashOf("admin"))?.hash).toBe("h2");
    expect(await u.sessionUser(s.id)).toBeNull();
  });
});

describe("migration 5", () => {
  it("keeps API keys made before roles as admin keys", () => {
    const db = new Database(":memory:");
    migrate(db, MIGRATIONS.slice(0, 4));
    db.prepare(`INSERT INTO api_keys (secret_id, secret_key, created_at) VALUES ('AKIDold', 'k', 0)`).run();
    migrate(db);
    expect(db.prepare(`SELECT role FROM api_keys`).get()).toEqual({ role: "admin" });
    db.prepare(`INSERT INTO api_keys (secret_id, secret_key, created_at) VALUES ('AKIDnew', 'k', 0)`).run();
    expect(db.prepare(`SELECT role FROM api_keys WHERE secret_id = 'AKIDnew'`).get()).toEqual({ role: "operator" });
  });
});
