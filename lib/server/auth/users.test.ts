/** Team accounts and their sessions on a real SQLite file (store/migrations.ts step 5). */
import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { migrate, MIGRATIONS } from "../store/migrations";
import { openDatabase } from "../store/database";
import { Users } from "./users";

const users = () => new Users(openDatabase(":memory:"));

describe("Users", () => {
  it("keeps an enabled admin: the last one cannot be demoted, disabled or removed", () => {
    const u = users();
    u.ensureAdmin("admin", "h1");
    for (const attempt of [() => u.setRole("admin", "viewer"), () => u.setDisabled("admin", true), () => u.remove("admin")]) {
      expect(attempt).toThrow("admin is the last enabled admin");
    }
    u.add("second", "admin", "h2");
    u.setRole("admin", "operator");
    expect(u.get("admin")?.role).toBe("operator");
    expect(() => u.add("Second", "viewer", "h3")).toThrow("a user named Second already exists");
  });

  it("ends sessions on sign-out, disabling, a new password and removal; follows role changes", () => {
    const u = users();
    u.ensureAdmin("admin", "h1");
    u.add("ann", "viewer", "h");
    const a = u.startSession("ann", 60_000);
    const b = u.startSession("ann", 60_000);
    expect(u.sessionUser(a.id)).toEqual({ name: "ann", role: "viewer" });
    u.setRole("ann", "operator");
    expect(u.sessionUser(a.id)).toEqual({ name: "ann", role: "operator" });
    u.endSession(a.id);
    expect(u.sessionUser(a.id)).toBeNull();
    expect(u.sessionUser(b.id)).not.toBeNull();
    u.setDisabled("ann", true);
    expect(u.sessionUser(b.id)).toBeNull();
    u.setDisabled("ann", false);
    const c = u.startSession("ann", 60_000);
    u.setPasswordHash("ann", "h2");
    expect(u.sessionUser(c.id)).toBeNull();
    const d = u.startSession("ann", 60_000);
    u.remove("ann");
    expect(u.sessionUser(d.id)).toBeNull();
    const expired = u.startSession("admin", 1000, 0);
    expect(u.sessionUser(expired.id, 999)).not.toBeNull();
    expect(u.sessionUser(expired.id, 1000)).toBeNull();
  });

  it("the configured admin: made at start, its password from the configuration (a new one ends its sessions)", () => {
    const u = users();
    u.ensureAdmin("admin", "h1");
    u.add("other", "admin", "h");
    u.setRole("admin", "viewer");
    const s = u.startSession("admin", 60_000);
    u.ensureAdmin("admin", "h1");
    expect(u.get("admin")).toMatchObject({ role: "admin", disabled: false });
    expect(u.sessionUser(s.id)).not.toBeNull();
    u.ensureAdmin("admin", "h2");
    expect(u.passwordHashOf("admin")?.hash).toBe("h2");
    expect(u.sessionUser(s.id)).toBeNull();
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
