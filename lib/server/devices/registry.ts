import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { checkDevice } from "../../rrpc/topics";
import { randomAlphanumeric } from "../auth/device-auth";
import { ApiError } from "../core/errors";

/** A device as listed: never with its secret. */
export type DeviceInfo = { productId: string; deviceName: string; disabled: boolean; createdAt: string };
export type NewDevice = { productId: string; deviceName: string; secret: string };

/** An API key as listed: never with its SecretKey. */
export type ApiKeyInfo = {
  secretId: string;
  name: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
};
export type NewApiKey = { secretId: string; secretKey: string };

type DeviceRow = { product_id: string; device_name: string; secret: string; disabled: number; created_at: number };
type KeyRow = { secret_id: string; secret_key: string; name: string | null; created_at: number; revoked_at: number | null; last_used_at: number | null };

/** Tencent's SecretIds are "AKID" and 32 letters and digits; SecretKeys 32 letters and digits. */
const SECRET_ID_PREFIX = "AKID";
const KEY_LENGTH = 32;
/** A SecretId is a field of the TC3 credential scope (split on '/') and of the Authorization header (split on ',' and spaces). */
const SECRET_ID_RE = /^[A-Za-z0-9_.-]{1,128}$/;
const SECRET_KEY_RE = /^[\x21-\x7e]{1,128}$/;
const NAME_MAX = 100;
/** lastUsedAt is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Devices (with their key-authentication secrets) and API keys (SecretId/SecretKey for the
 * Tencent-compatible API), in their own tables of the Store's SQLite file. Secrets are stored
 * in clear because verifying an HMAC needs them; they are returned only when created (and the
 * device secret to whoever may configure the device, via getDeviceSecret).
 */
export class Registry {
  private readonly stmts;
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS devices (
        product_id  TEXT NOT NULL,
        device_name TEXT NOT NULL,
        secret      TEXT NOT NULL,
        disabled    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (product_id, device_name)
      );
      CREATE TABLE IF NOT EXISTS api_keys (
        secret_id    TEXT PRIMARY KEY,
        secret_key   TEXT NOT NULL,
        name         TEXT,
        created_at   INTEGER NOT NULL,
        revoked_at   INTEGER,
        last_used_at INTEGER
      );
    `);
    this.stmts = {
      insertDevice: db.prepare(
        `INSERT INTO devices (product_id, device_name, secret, disabled, created_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT DO NOTHING`,
      ),
      listDevices: db.prepare<[], DeviceRow>(`SELECT * FROM devices ORDER BY product_id, device_name`),
      listProductDevices: db.prepare<[string], DeviceRow>(`SELECT * FROM devices WHERE product_id = ? ORDER BY device_name`),
      getDevice: db.prepare<[string, string], DeviceRow>(`SELECT * FROM devices WHERE product_id = ? AND device_name = ?`),
      setDisabled: db.prepare(`UPDATE devices SET disabled = ? WHERE product_id = ? AND device_name = ?`),
      deleteDevice: db.prepare(`DELETE FROM devices WHERE product_id = ? AND device_name = ?`),
      insertKey: db.prepare(`INSERT INTO api_keys (secret_id, secret_key, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      listKeys: db.prepare<[], KeyRow>(`SELECT * FROM api_keys ORDER BY created_at, secret_id`),
      getKey: db.prepare<[string], KeyRow>(`SELECT * FROM api_keys WHERE secret_id = ?`),
      revokeKey: db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE secret_id = ? AND revoked_at IS NULL`),
      setKeySecret: db.prepare(`UPDATE api_keys SET secret_key = ? WHERE secret_id = ?`),
      touchKey: db.prepare(`UPDATE api_keys SET last_used_at = ? WHERE secret_id = ?`),
    };
  }

  // ---- devices ----

  /** Registers a device with a new secret (base64 of 16 random bytes, as Tencent's). */
  createDevice(productId: string, deviceName: string): NewDevice {
    const fields = checkDevice(productId, deviceName);
    if (fields.length > 0) throw new ApiError("invalid_request", fields.map((f) => f.message).join("; "), fields);
    const secret = randomBytes(16).toString("base64");
    const inserted = this.stmts.insertDevice.run(productId, deviceName, secret, Date.now()).changes === 1;
    if (!inserted) {
      throw new ApiError("conflict", `device ${productId}/${deviceName} already exists`);
    }
    return { productId, deviceName, secret };
  }

  listDevices(filter: { productId?: string } = {}): DeviceInfo[] {
    const rows = filter.productId === undefined ? this.stmts.listDevices.all() : this.stmts.listProductDevices.all(filter.productId);
    return rows.map(toDeviceInfo);
  }

  getDevice(productId: string, deviceName: string): DeviceInfo | null {
    const row = this.stmts.getDevice.get(productId, deviceName);
    return row ? toDeviceInfo(row) : null;
  }

  /** The device's secret (base64), to configure the device; null when there is no such device. */
  getDeviceSecret(productId: string, deviceName: string): string | null {
    return this.stmts.getDevice.get(productId, deviceName)?.secret ?? null;
  }

  /** What verifyDeviceLogin needs (lib/server/auth/device-auth.ts). */
  deviceAuthRecord(productId: string, deviceName: string): { secret: string; disabled: boolean } | null {
    const row = this.stmts.getDevice.get(productId, deviceName);
    return row ? { secret: row.secret, disabled: row.disabled !== 0 } : null;
  }

  /** What handleTencentRequest's deviceExists needs (lib/server/tencent/publish-rrpc.ts). */
  deviceState(productId: string, deviceName: string): "ok" | "not_found" | "disabled" {
    const row = this.stmts.getDevice.get(productId, deviceName);
    return !row ? "not_found" : row.disabled !== 0 ? "disabled" : "ok";
  }

  setDisabled(productId: string, deviceName: string, disabled: boolean): DeviceInfo {
    if (this.stmts.setDisabled.run(disabled ? 1 : 0, productId, deviceName).changes === 0) throw deviceNotFound(productId, deviceName);
    return this.getDevice(productId, deviceName)!;
  }

  deleteDevice(productId: string, deviceName: string): void {
    if (this.stmts.deleteDevice.run(productId, deviceName).changes === 0) throw deviceNotFound(productId, deviceName);
  }

  // ---- API keys ----

  /** A new SecretId/SecretKey pair. The SecretKey is never returned again. */
  createApiKey(name?: string): NewApiKey {
    const n = name?.trim() || null;
    if (n !== null && n.length > NAME_MAX) {
      throw new ApiError("invalid_request", `name is longer than ${NAME_MAX} characters`, [{ field: "name", message: `at most ${NAME_MAX} characters` }]);
    }
    for (;;) {
      const key = { secretId: SECRET_ID_PREFIX + randomAlphanumeric(KEY_LENGTH), secretKey: randomAlphanumeric(KEY_LENGTH) };
      if (this.stmts.insertKey.run(key.secretId, key.secretKey, n, Date.now()).changes === 1) return key;
    }
  }

  listApiKeys(): ApiKeyInfo[] {
    return this.stmts.listKeys.all().map(toKeyInfo);
  }

  getApiKey(secretId: string): ApiKeyInfo | null {
    const row = this.stmts.getKey.get(secretId);
    return row ? toKeyInfo(row) : null;
  }

  /** Revokes a key for good; revoking a revoked key changes nothing. Throws not_found for an unknown SecretId. */
  revokeApiKey(secretId: string): ApiKeyInfo {
    const row = this.stmts.getKey.get(secretId);
    if (!row) throw new ApiError("not_found", `no API key with SecretId ${secretId}`);
    this.stmts.revokeKey.run(Date.now(), secretId);
    return this.getApiKey(secretId)!;
  }

  /** The SecretKey of an active key; null when the SecretId is unknown or revoked. */
  secretFor(secretId: string): string | null {
    const row = this.stmts.getKey.get(secretId);
    return row && row.revoked_at === null ? row.secret_key : null;
  }

  /** Records that a request signed with this key verified (throttled to one write a minute per key). */
  markApiKeyUsed(secretId: string, now = Date.now()): void {
    const last = this.lastUsedWritten.get(secretId);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(secretId, now);
    this.stmts.touchKey.run(now, secretId);
  }

  /**
   * Makes sure a configured key (RRPC_BOOTSTRAP_KEY=<SecretId>:<SecretKey>) exists. The
   * configuration wins over a stored SecretKey, but a key revoked by an operator stays revoked.
   */
  ensureApiKey(secretId: string, secretKey: string, name = "bootstrap"): "created" | "updated" | "unchanged" | "revoked" {
    if (!SECRET_ID_RE.test(secretId)) throw new Error("the bootstrap SecretId must be 1-128 letters, digits, '_', '.' or '-'");
    if (!SECRET_KEY_RE.test(secretKey)) throw new Error("the bootstrap SecretKey must be 1-128 printable ASCII characters without spaces");
    const row = this.stmts.getKey.get(secretId);
    if (!row) {
      this.stmts.insertKey.run(secretId, secretKey, name, Date.now());
      return "created";
    }
    if (row.revoked_at !== null) return "revoked";
    if (row.secret_key === secretKey) return "unchanged";
    this.stmts.setKeySecret.run(secretKey, secretId);
    return "updated";
  }
}

/** Splits RRPC_BOOTSTRAP_KEY (`<SecretId>:<SecretKey>`); null when it is not of that form. */
export function parseBootstrapKey(value: string): { secretId: string; secretKey: string } | null {
  const i = value.indexOf(":");
  if (i <= 0 || i === value.length - 1) return null;
  return { secretId: value.slice(0, i), secretKey: value.slice(i + 1) };
}

function deviceNotFound(productId: string, deviceName: string): ApiError {
  return new ApiError("device_not_found", `device ${productId}/${deviceName} does not exist`);
}

function toDeviceInfo(r: DeviceRow): DeviceInfo {
  return { productId: r.product_id, deviceName: r.device_name, disabled: r.disabled !== 0, createdAt: iso(r.created_at)! };
}

function toKeyInfo(r: KeyRow): ApiKeyInfo {
  return { secretId: r.secret_id, name: r.name, createdAt: iso(r.created_at)!, revokedAt: iso(r.revoked_at), lastUsedAt: iso(r.last_used_at) };
}
