import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import type { UserInfo } from "../../rrpc/api";
import { DomainError, invalidInput } from "../core/errors";
import { isRole, type Role } from "./roles";

export type { UserInfo };

type UserRow = { name: string; role: string; password_hash: string; created_at: number; disabled: number };
type SessionRow = { id: string; user_name: string; expires_at: number };

/** A user name: what a person types to sign in (no spaces, no '.', which tokens use as a separator). */
export const USER_NAME_RE = /^[A-Za-z0-9_@+-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Team accounts (table users, store/migrations.ts step 5) and their sessions (table sessions):
 * a session is a row, so signing out, removing or disabling a user ends it everywhere, and a
 * role change applies to the next request. Both are in the database: sessions outlive a restart.
 */
export class Users {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      get: db.prepare<[string], UserRow>(`SELECT * FROM users WHERE name = ?`),
      list: db.prepare<[], UserRow>(`SELECT * FROM users ORDER BY created_at, name`),
      insert: db.prepare(`INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      setRole: db.prepare(`UPDATE users SET role = ? WHERE name = ?`),
      setDisabled: db.prepare(`UPDATE users SET disabled = ? WHERE name = ?`),
      setHash: db.prepare(`UPDATE users SET password_hash = ? WHERE name = ?`),
      remove: db.prepare(`DELETE FROM users WHERE name = ?`),
      activeAdmins: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0`),
      addSession: db.prepare(`INSERT INTO sessions (id, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)`),
      getSession: db.prepare<[string], SessionRow>(`SELECT id, user_name, expires_at FROM sessions WHERE id = ?`),
      endSession: db.prepare(`DELETE FROM sessions WHERE id = ?`),
      endSessionsOf: db.prepare(`DELETE FROM sessions WHERE user_name = ?`),
      pruneSessions: db.prepare(`DELETE FROM sessions WHERE expires_at <= ?`),
    };
  }

  list(): UserInfo[] {
    return this.s.list.all().map(toInfo);
  }

  get(name: string): UserInfo | null {
    const row = this.s.get.get(name);
    return row ? toInfo(row) : null;
  }

  /** The stored password hash of an enabled user; null when unknown or disabled. */
  passwordHashOf(name: string): { name: string; hash: string } | null {
    const row = this.s.get.get(name);
    return row && !row.disabled ? { name: row.name, hash: row.password_hash } : null;
  }

  /** A new user; `passwordHash` from auth/tokens.ts hashPassword. */
  add(name: string, role: Role, passwordHash: string, now = Date.now()): UserInfo {
    checkName(name);
    checkRole(role);
    if (this.s.insert.run(name, role, passwordHash, now).changes !== 1) throw new DomainError("user_exists", `a user named ${name} already exists`);
    return this.get(name)!;
  }

  /**
   * The configured operator (RRPC_OPERATOR_USER / _PASSWORD): made an enabled admin at start,
   * with the configured password (the configuration wins). A changed password ends its sessions.
   */
  ensureAdmin(name: string, passwordHash: string, now = Date.now()): void {
    this.db.transaction(() => {
      const row = this.s.get.get(name);
      if (!row) {
        this.s.insert.run(name, "admin", passwordHash, now);
        return;
      }
      if (row.password_hash !== passwordHash) {
        this.s.setHash.run(passwordHash, row.name);
        this.s.endSessionsOf.run(row.name);
      }
      if (row.role !== "admin") this.s.setRole.run("admin", row.name);
      if (row.disabled) this.s.setDisabled.run(0, row.name);
    })();
  }

  setRole(name: string, role: Role): UserInfo {
    checkRole(role);
    return this.db.transaction(() => {
      const row = this.existing(name);
      if (row.role === "admin" && role !== "admin") this.keepAnAdmin(row);
      this.s.setRole.run(role, row.name);
      return this.get(row.name)!;
    })();
  }

  /** Disabling a user ends their sessions; they cannot sign in until enabled again. */
  setDisabled(name: string, disabled: boolean): UserInfo {
    return this.db.transaction(() => {
      const row = this.existing(name);
      if (disabled && row.role === "admin") this.keepAnAdmin(row);
      this.s.setDisabled.run(disabled ? 1 : 0, row.name);
      if (disabled) this.s.endSessionsOf.run(row.name);
      return this.get(row.name)!;
    })();
  }

  /** A new password ends the user's sessions. */
  setPasswordHash(name: string, passwordHash: string): UserInfo {
    const row = this.existing(name);
    this.db.transaction(() => {
      this.s.setHash.run(passwordHash, row.name);
      this.s.endSessionsOf.run(row.name);
    })();
    return this.get(row.name)!;
  }

  /** Removes a user and ends their sessions. The last enabled admin cannot be removed. */
  remove(name: string): void {
    this.db.transaction(() => {
      const row = this.existing(name);
      if (row.role === "admin") this.keepAnAdmin(row);
      this.s.remove.run(row.name);
      this.s.endSessionsOf.run(row.name);
    })();
  }

  /** A new session for a user; its id goes into the signed cookie. */
  startSession(name: string, ttlMs: number, now = Date.now()): { id: string; expiresAt: number } {
    this.s.pruneSessions.run(now);
    const id = randomBytes(18).toString("base64url");
    this.s.addSession.run(id, name, now, now + ttlMs);
    return { id, expiresAt: now + ttlMs };
  }

  /** Signing out: the session stops working everywhere, a copied cookie included. */
  endSession(id: string): void {
    this.s.endSession.run(id);
  }

  /** Who a live session belongs to, with their current role; null when ended, expired, or the user is gone or disabled. */
  sessionUser(id: string, now = Date.now()): { name: string; role: Role } | null {
    const session = this.s.getSession.get(id);
    if (!session || session.expires_at <= now) return null;
    const user = this.s.get.get(session.user_name);
    if (!user || user.disabled || !isRole(user.role)) return null;
    return { name: user.name, role: user.role };
  }

  private existing(name: string): UserRow {
    const row = this.s.get.get(name);
    if (!row) throw new DomainError("user_not_found", `no user named ${name}`);
    return row;
  }

  private keepAnAdmin(row: UserRow): void {
    if (!row.disabled && this.s.activeAdmins.get()!.n <= 1) {
      throw new DomainError("user_conflict", `${row.name} is the last enabled admin: make another admin first`);
    }
  }
}

function checkName(name: string): void {
  if (!USER_NAME_RE.test(name)) {
    throw invalidInput([{ field: "name", message: "name must be 1-64 letters, digits, '_', '@', '+' or '-'" }]);
  }
}

function checkRole(role: string): void {
  if (!isRole(role)) throw invalidInput([{ field: "role", message: "role must be viewer, operator or admin" }]);
}

function toInfo(r: UserRow): UserInfo {
  return { name: r.name, role: isRole(r.role) ? r.role : "viewer", createdAt: new Date(r.created_at).toISOString(), disabled: r.disabled !== 0 };
}
