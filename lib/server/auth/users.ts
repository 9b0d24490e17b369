import type { Sql } from "../store/sql";
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
const Q = {
  get: `SELECT * FROM users WHERE name = ?`,
  list: `SELECT * FROM users ORDER BY created_at, name`,
  insert: `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  setRole: `UPDATE users SET role = ? WHERE name = ?`,
  setDisabled: `UPDATE users SET disabled = ? WHERE name = ?`,
  setHash: `UPDATE users SET password_hash = ? WHERE name = ?`,
  remove: `DELETE FROM users WHERE name = ?`,
  activeAdmins: `SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0`,
  addSession: `INSERT INTO sessions (id, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)`,
  getSession: `SELECT id, user_name, expires_at FROM sessions WHERE id = ?`,
  endSession: `DELETE FROM sessions WHERE id = ?`,
  endSessionsOf: `DELETE FROM sessions WHERE user_name = ?`,
  pruneSessions: `DELETE FROM sessions WHERE expires_at <= ?`,
};

export class Users {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<UserInfo[]> {
    return (await this.sql.all<UserRow>(Q.list)).map(toInfo);
  }

  async get(name: string, q: Sql = this.sql): Promise<UserInfo | null> {
    const row = await q.get<UserRow>(Q.get, [name]);
    return row ? toInfo(row) : null;
  }

  /** The stored password hash of an enabled user; null when unknown or disabled. */
  async passwordHashOf(name: string): Promise<{ name: string; hash: string } | null> {
    const row = await this.sql.get<UserRow>(Q.get, [name]);
    return row && !row.disabled ? { name: row.name, hash: row.password_hash } : null;
  }

  /** A new user; `passwordHash` from auth/tokens.ts hashPassword. */
  async add(name: string, role: Role, passwordHash: string, now = Date.now()): Promise<UserInfo> {
    checkName(name);
    checkRole(role);
    if ((await this.sql.run(Q.insert, [name, role, passwordHash, now])).changes !== 1) {
      throw new DomainError("user_exists", `a user named ${name} already exists`);
    }
    return (await this.get(name))!;
  }

  /**
   * The configured operator (RRPC_OPERATOR_USER / _PASSWORD): made an enabled admin at start,
   * with the configured password (the configuration wins). A changed password ends its sessions.
   */
  async ensureAdmin(name: string, passwordHash: string, now = Date.now()): Promise<void> {
    await this.sql.tx(async (q) => {
      const row = await q.get<UserRow>(Q.get, [name]);
      if (!row) {
        await q.run(Q.insert, [name, "admin", passwordHash, now]);
        return;
      }
      if (row.password_hash !== passwordHash) {
        await q.run(Q.setHash, [passwordHash, row.name]);
        await q.run(Q.endSessionsOf, [row.name]);
      }
      if (row.role !== "admin") await q.run(Q.setRole, ["admin", row.name]);
      if (row.disabled) await q.run(Q.setDisabled, [0, row.name]);
    });
  }

  async setRole(name: string, role: Role): Promise<UserInfo> {
    checkRole(role);
    return this.sql.tx(async (q) => {
      const row = await existing(q, name);
      if (row.role === "admin" && role !== "admin") await keepAnAdmin(q, row);
      await q.run(Q.setRole, [role, row.name]);
      return (await this.get(row.name, q))!;
    });
  }

  /** Disabling a user ends their sessions; they cannot sign in until enabled again. */
  async setDisabled(name: string, disabled: boolean): Promise<UserInfo> {
    return this.sql.tx(async (q) => {
      const row = await existing(q, name);
      if (disabled && row.role === "admin") await keepAnAdmin(q, row);
      await q.run(Q.setDisabled, [disabled ? 1 : 0, row.name]);
      if (disabled) await q.run(Q.endSessionsOf, [row.name]);
      return (await this.get(row.name, q))!;
    });
  }

  /** A new password ends the user's sessions. */
  async setPasswordHash(name: string, passwordHash: string): Promise<UserInfo> {
    return this.sql.tx(async (q) => {
      const row = await existing(q, name);
      await q.run(Q.setHash, [passwordHash, row.name]);
      await q.run(Q.endSessionsOf, [row.name]);
      return (await this.get(row.name, q))!;
    });
  }

  /** Removes a user and ends their sessions. The last enabled admin cannot be removed. */
  async remove(name: string): Promise<void> {
    await this.sql.tx(async (q) => {
      const row = await existing(q, name);
      if (row.role === "admin") await keepAnAdmin(q, row);
      await q.run(Q.remove, [row.name]);
      await q.run(Q.endSessionsOf, [row.name]);
    });
  }

  /** A new session for a user; its id goes into the signed cookie. */
  async startSession(name: string, ttlMs: number, now = Date.now()): Promise<{ id: string; expiresAt: number }> {
    await this.sql.run(Q.pruneSessions, [now]);
    const id = randomBytes(18).toString("base64url");
    await this.sql.run(Q.addSession, [id, name, now, now + ttlMs]);
    return { id, expiresAt: now + ttlMs };
  }

  /** Signing out: the session stops working everywhere, a copied cookie included. */
  async endSession(id: string): Promise<void> {
    await this.sql.run(Q.endSession, [id]);
  }

  /** Who a live session belongs to, with their current role; null when ended, expired, or the user is gone or disabled. */
  async sessionUser(id: string, now = Date.now()): Promise<{ name: string; role: Role } | null> {
    const session = await this.sql.get<SessionRow>(Q.getSession, [id]);
    if (!session || session.expires_at <= now) return null;
    const user = await this.sql.get<UserRow>(Q.get, [session.user_name]);
    if (!user || user.disabled || !isRole(user.role)) return null;
    return { name: user.name, role: user.role };
  }
}

async function existing(q: Sql, name: string): Promise<UserRow> {
  const row = await q.get<UserRow>(Q.get, [name]);
  if (!row) throw new DomainError("user_not_found", `no user named ${name}`);
  return row;
}

async function keepAnAdmin(q: Sql, row: UserRow): Promise<void> {
  if (!row.disabled && (await q.get<{ n: number }>(Q.activeAdmins))!.n <= 1) {
    throw new DomainError("user_conflict", `${row.name} is the last enabled admin: make another admin first`);
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
