import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import type { DeviceInfo, NewDevice } from "../../rrpc/api";
import { checkDevice } from "../../rrpc/topics";
import { DomainError, invalidInput } from "../core/errors";

export type { DeviceInfo, NewDevice };
/** What a call may do with a device: the one device check of a call (calls/hub.ts). */
export type DeviceState = "ok" | "not_found" | "disabled";

type DeviceRow = { product_id: string; device_name: string; secret: string; disabled: number; created_at: number };

/** Device states kept in memory at most; past it the copy starts again empty. */
const STATE_CACHE_MAX = 100_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Devices and their key-authentication secrets, in the store's SQLite file (table devices,
 * store/migrations.ts). Secrets are stored in clear because verifying an HMAC needs them; they
 * are returned only when created, and to whoever may configure the device (getDeviceSecret).
 */
export class DeviceRegistry {
  private readonly stmts;
  private readonly revokedListeners: ((productId: string, deviceName: string) => void)[] = [];
  /**
   * deviceState's answers, by device: every call asks (calls/hub.ts), and a SQLite read on the
   * hot path costs more than the rest of the check (the store's writer thread commits all the
   * time, so the read finds its page cache stale). This registry is the only one that disables
   * or deletes devices, and each of its changes drops the device's entry. "not_found" is never
   * kept: another process may register the device meanwhile (`npm run device`).
   */
  private readonly states = new Map<string, DeviceState>();

  constructor(db: Database.Database) {
    this.stmts = {
      insertDevice: db.prepare(
        `INSERT INTO devices (product_id, device_name, secret, disabled, created_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT DO NOTHING`,
      ),
      listDevices: db.prepare<[], DeviceRow>(`SELECT * FROM devices ORDER BY product_id, device_name`),
      listProductDevices: db.prepare<[string], DeviceRow>(`SELECT * FROM devices WHERE product_id = ? ORDER BY device_name`),
      getDevice: db.prepare<[string, string], DeviceRow>(`SELECT * FROM devices WHERE product_id = ? AND device_name = ?`),
      setDisabled: db.prepare(`UPDATE devices SET disabled = ? WHERE product_id = ? AND device_name = ?`),
      deleteDevice: db.prepare(`DELETE FROM devices WHERE product_id = ? AND device_name = ?`),
      setSecret: db.prepare(`UPDATE devices SET secret = ? WHERE product_id = ? AND device_name = ?`),
    };
  }

  /**
   * Runs when a device's login stops being valid (disabled, deleted, new secret): the broker
   * then closes its connections, which were authenticated with what is no longer true.
   */
  onRevoked(listener: (productId: string, deviceName: string) => void): void {
    this.revokedListeners.push(listener);
  }

  private revoked(productId: string, deviceName: string): void {
    for (const l of this.revokedListeners) l(productId, deviceName);
  }

  /** Registers a device with a new secret (base64 of 16 random bytes, as Tencent's). */
  createDevice(productId: string, deviceName: string): NewDevice {
    const fields = checkDevice(productId, deviceName);
    if (fields.length > 0) throw invalidInput(fields);
    const secret = randomBytes(16).toString("base64");
    const inserted = this.stmts.insertDevice.run(productId, deviceName, secret, Date.now()).changes === 1;
    if (!inserted) {
      throw new DomainError("device_exists", `device ${productId}/${deviceName} already exists`);
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

  deviceState(productId: string, deviceName: string): DeviceState {
    const key = stateKey(productId, deviceName);
    const known = this.states.get(key);
    if (known !== undefined) return known;
    const row = this.stmts.getDevice.get(productId, deviceName);
    if (!row) return "not_found";
    const state = row.disabled !== 0 ? "disabled" : "ok";
    if (this.states.size >= STATE_CACHE_MAX) this.states.clear();
    this.states.set(key, state);
    return state;
  }

  private forget(productId: string, deviceName: string): void {
    this.states.delete(stateKey(productId, deviceName));
  }

  setDisabled(productId: string, deviceName: string, disabled: boolean): DeviceInfo {
    const changed = this.stmts.setDisabled.run(disabled ? 1 : 0, productId, deviceName).changes;
    this.forget(productId, deviceName);
    if (changed === 0) throw deviceNotFound(productId, deviceName);
    if (disabled) this.revoked(productId, deviceName);
    return this.getDevice(productId, deviceName)!;
  }

  deleteDevice(productId: string, deviceName: string): void {
    const changed = this.stmts.deleteDevice.run(productId, deviceName).changes;
    this.forget(productId, deviceName);
    if (changed === 0) throw deviceNotFound(productId, deviceName);
    this.revoked(productId, deviceName);
  }

  /** A new secret (shown once, like at creation); the old one no longer logs in. */
  rotateSecret(productId: string, deviceName: string): NewDevice {
    const secret = randomBytes(16).toString("base64");
    if (this.stmts.setSecret.run(secret, productId, deviceName).changes === 0) throw deviceNotFound(productId, deviceName);
    this.revoked(productId, deviceName);
    return { productId, deviceName, secret };
  }
}

/** Ids never hold a NUL (lib/rrpc/topics.ts), so product and device cannot run into each other. */
const stateKey = (productId: string, deviceName: string) => `${productId}\0${deviceName}`;

export function deviceNotFound(productId: string, deviceName: string): DomainError {
  return new DomainError("device_not_found", `device ${productId}/${deviceName} does not exist`);
}

function toDeviceInfo(r: DeviceRow): DeviceInfo {
  return { productId: r.product_id, deviceName: r.device_name, disabled: r.disabled !== 0, createdAt: iso(r.created_at)! };
}
