import type { Sql } from "../store/sql";
import type { ApiKeyInfo, NewApiKey } from "../../rrpc/api";
import { DomainError, invalidInput } from "../core/errors";
import { randomAlphanumeric } from "../core/random";
import { isRole, type Role } from "../auth/roles";

export type { ApiKeyInfo, NewApiKey };

type KeyRow = {
  secret_id: string;
  secret_key: string;
  name: string | null;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  role: string;
};

/** Tencent's SecretIds are "AKID" and 32 letters and digits; SecretKeys 32 letters and digits. */
const SECRET_ID_PREFIX = "AKID";
const KEY_LENGTH = 32;
/** A SecretId is a field of the TC3 credential scope (split on '/') and of the Authorization header (split on ',' and spaces). */
const SECRET_ID_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const SECRET_KEY_RE = /^[\x21-\x7e]{1,128}$/;
const NAME_MAX = 100;
/** lastUsedAt is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * How long a key's row is answered from memory. This process's own changes (revoke, a new
 * bootstrap SecretKey) apply at once; another process's (`npm run keys -- revoke` while the hub
 * runs) within this time.
 */
export const KEY_CACHE_MS = 1000;
/** Keys kept in memory at most (only SecretIds that exist are kept: unknown ones cannot fill it). */
const KEY_CACHE_MAX = 10_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * API keys (SecretId/SecretKey) for the native API and Tencent's, in the store's database
 * (table api_keys, store/migrations.ts). The SecretKey is stored in clear because verifying an
 * HMAC needs it; it is returned only when created.
 */
const Q = {
  insertKey: `INSERT INTO api_keys (secret_id, secret_key, name, created_at, role) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  listKeys: `SELECT * FROM api_keys ORDER BY created_at, secret_id`,
  getKey: `SELECT * FROM api_keys WHERE secret_id = ?`,
  revokeKey: `UPDATE api_keys SET revoked_at = ? WHERE secret_id = ? AND revoked_at IS NULL`,
  setKeySecret: `UPDATE api_keys SET secret_key = ? WHERE secret_id = ?`,
  touchKey: `UPDATE api_keys SET last_used_at = ? WHERE secret_id = ?`,
};

export class ApiKeys {
  private readonly lastUsedWritten = new Map<string, number>();
  /**
   * Rows read by secretFor/roleOf/nameOf, with when they were read: every API request asks up to
   * three of them, and a SQLite read on the hot path costs more than the rest of the request's
   * checks (the store's writer thread commits all the time, so the read finds its page cache stale).
   */
  private readonly rows = new Map<string, { row: KeyRow; at: number }>();
  private readonly now: () => number;

  /** `now`: monotonic milliseconds, for how long a row is kept (tests drive it). */
  constructor(
    private readonly sql: Sql,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  private row(secretId: string): Promise<KeyRow | undefined> {
    return this.sql.get<KeyRow>(Q.getKey, [secretId]);
  }

  /** A new SecretId/SecretKey pair, acting as `role` (operator by default). The SecretKey is never returned again. */
  async createApiKey(name?: string, role: Role = "operator"): Promise<NewApiKey> {
    if (!isRole(role)) throw invalidInput([{ field: "role", message: "role must be viewer, operator or admin" }]);
    const n = name?.trim() || null;
    if (n !== null && n.length > NAME_MAX) {
      throw invalidInput([{ field: "name", message: `name is longer than ${NAME_MAX} characters` }]);
    }
    for (;;) {
      const key = { secretId: SECRET_ID_PREFIX + randomAlphanumeric(KEY_LENGTH), secretKey: randomAlphanumeric(KEY_LENGTH) };
      if ((await this.sql.run(Q.insertKey, [key.secretId, key.secretKey, n, Date.now(), role])).changes === 1) return key;
    }
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return (await this.sql.all<KeyRow>(Q.listKeys)).map(toKeyInfo);
  }

  async getApiKey(secretId: string): Promise<ApiKeyInfo | null> {
    const row = await this.row(secretId);
    return row ? toKeyInfo(row) : null;
  }

  /** Revokes a key for good; revoking a revoked key changes nothing. Throws not_found for an unknown SecretId. */
  async revokeApiKey(secretId: string): Promise<ApiKeyInfo> {
    const row = await this.row(secretId);
    if (!row) throw new DomainError("key_not_found", `no API key with SecretId ${secretId}`);
    await this.sql.run(Q.revokeKey, [Date.now(), secretId]);
    this.rows.delete(secretId);
    return (await this.getApiKey(secretId))!;
  }

  /** A key's name as its creator gave it (null: none, or no such key). */
  async nameOf(secretId: string): Promise<string | null> {
    return (await this.cachedRow(secretId))?.name ?? null;
  }

  /** What an active key may do; null when the SecretId is unknown or revoked. */
  async roleOf(secretId: string): Promise<Role | null> {
    const row = await this.cachedRow(secretId);
    return row && row.revoked_at === null && isRole(row.role) ? row.role : null;
  }

  /** The SecretKey of an active key; null when the SecretId is unknown or revoked. */
  async secretFor(secretId: string): Promise<string | null> {
    const row = await this.cachedRow(secretId);
    return row && row.revoked_at === null ? row.secret_key : null;
  }

  /** The key's row, from memory when read less than KEY_CACHE_MS ago. */
  private async cachedRow(secretId: string): Promise<KeyRow | undefined> {
    const now = this.now();
    const kept = this.rows.get(secretId);
    if (kept && now - kept.at < KEY_CACHE_MS) return kept.row;
    const row = await this.row(secretId);
    if (!row) {
      this.rows.delete(secretId);
      return undefined;
    }
    if (this.rows.size >= KEY_CACHE_MAX) this.rows.clear();
    this.rows.set(secretId, { row, at: now });
    return row;
  }

  /** Records that a request signed with this key verified (throttled to one write a minute per key). */
  async markApiKeyUsed(secretId: string, now = Date.now()): Promise<void> {
    const last = this.lastUsedWritten.get(secretId);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(secretId, now);
    await this.sql.run(Q.touchKey, [now, secretId]);
  }

  /**
   * Makes sure a configured key (RRPC_BOOTSTRAP_KEY=<SecretId>:<SecretKey>) exists. The
   * configuration wins over a stored SecretKey, but a key revoked by an operator stays revoked.
   * A configured key is an admin key: whoever configures the hub may do everything.
   */
  async ensureApiKey(secretId: string, secretKey: string, name = "bootstrap"): Promise<"created" | "updated" | "unchanged" | "revoked"> {
    if (!SECRET_ID_RE.test(secretId)) throw new Error("the bootstrap SecretId must be 1-128 letters, digits, '_', '.' or '-'");
    if (!SECRET_KEY_RE.test(secretKey)) throw new Error("the bootstrap SecretKey must be 1-128 printable ASCII characters without spaces");
    const row = await this.row(secretId);
    if (!row) {
      // Another hub starting with the same key may insert it first: then it is there, unchanged.
      return (await this.sql.run(Q.insertKey, [secretId, secretKey, name, Date.now(), "admin"])).changes === 1 ? "created" : "unchanged";
    }
    if (row.revoked_at !== null) return "revoked";
    if (row.secret_key === secretKey) return "unchanged";
    await this.sql.run(Q.setKeySecret, [secretKey, secretId]);
    this.rows.delete(secretId);
    return "updated";
  }
}

/** Splits RRPC_BOOTSTRAP_KEY (`<SecretId>:<SecretKey>`); null when it is not of that form. */
export function parseBootstrapKey(value: string): { secretId: string; secretKey: string } | null {
  const i = value.indexOf(":");
  if (i <= 0 || i === value.length - 1) return null;
  return { secretId: value.slice(0, i), secretKey: value.slice(i + 1) };
}

function toKeyInfo(r: KeyRow): ApiKeyInfo {
  return {
    secretId: r.secret_id,
    name: r.name,
    createdAt: iso(r.created_at)!,
    revokedAt: iso(r.revoked_at),
    lastUsedAt: iso(r.last_used_at),
    role: isRole(r.role) ? r.role : "viewer",
  };
}
