import type { Sql } from "../store/sql";
import { randomBytes } from "node:crypto";
import type { DeviceInfo, NewDevice } from "../../rrpc/api";
import { checkDevice } from "../../rrpc/topics";
import { DomainError, invalidInput } from "../core/errors";

export type { DeviceInfo, NewDevice };
/** What a call may do with a device: the one device check of a call (calls/hub.ts). */
export type DeviceState = "ok" | "not_found" | "disabled";

type DeviceRow = { product_id: string; device_name: string; secret: string; disabled: number; created_at: number };
/** What a device's login is checked against. */
export type DeviceAuthRecord = { secret: string; disabled: boolean };

/** Device states kept in memory at most; past it the copy starts again empty. */
const STATE_CACHE_MAX = 100_000;
/** How long a device's state is answered from memory: another hub's (or process's) change applies within this. */
export const STATE_CACHE_MS = 1000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Devices and their key-authentication secrets, in the store's database (table devices,
 * store/migrations.ts). Secrets are stored in clear because verifying an HMAC needs them; they
 * are returned only when created, and to whoever may configure the device (getDeviceSecret).
 */
export class DeviceRegistry {
  private readonly revokedListeners: ((productId: string, deviceName: string) => void)[] = [];
  /**
   * deviceState's answers, by device: every call asks (calls/hub.ts), and a SQLite read on the
   * hot path costs more than the rest of the check (the store's writer thread commits all the
   * time, so the read finds its page cache stale; on PostgreSQL it is a round trip). This
   * registry's own changes drop the device's entry at once; another hub's (several hubs on one
   * database) or another process's apply within STATE_CACHE_MS. "not_found" is never kept: a
   * device registered elsewhere is callable at once.
   */
  private readonly states = new Map<string, { state: DeviceState; at: number }>();

  constructor(
    private readonly sql: Sql,
    private readonly now: () => number = Date.now,
  ) {}

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

  private row(productId: string, deviceName: string): Promise<DeviceRow | undefined> {
    return this.sql.get<DeviceRow>(`SELECT * FROM devices WHERE product_id = ? AND device_name = ?`, [productId, deviceName]);
  }

  /** Registers a device with a new secret (base64 of 16 random bytes, as Tencent's). */
  async createDevice(productId: string, deviceName: string): Promise<NewDevice> {
    const fields = checkDevice(productId, deviceName);
    if (fields.length > 0) throw invalidInput(fields);
    const secret = randomBytes(16).toString("base64");
    const { changes } = await this.sql.run(
      `INSERT INTO devices (product_id, device_name, secret, disabled, created_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT DO NOTHING`,
      [productId, deviceName, secret, Date.now()],
    );
    if (changes !== 1) throw new DomainError("device_exists", `device ${productId}/${deviceName} already exists`);
    return { productId, deviceName, secret };
  }

  /**
   * The devices, and their states remembered as deviceState would: a batch to a product lists
   * its devices and then calls each of them, and one read per call (10,000 for a fleet) was
   * the largest item of the server's profile while a batch ran, after the round trips.
   */
  async listDevices(filter: { productId?: string } = {}): Promise<DeviceInfo[]> {
    const rows =
      filter.productId === undefined
        ? await this.sql.all<DeviceRow>(`SELECT * FROM devices ORDER BY product_id, device_name`)
        : await this.sql.all<DeviceRow>(`SELECT * FROM devices WHERE product_id = ? ORDER BY device_name`, [filter.productId]);
    const now = this.now();
    for (const r of rows) this.remember(r, now);
    return rows.map(toDeviceInfo);
  }

  async getDevice(productId: string, deviceName: string): Promise<DeviceInfo | null> {
    const row = await this.row(productId, deviceName);
    return row ? toDeviceInfo(row) : null;
  }

  /** The device's secret (base64), to configure the device; null when there is no such device. */
  async getDeviceSecret(productId: string, deviceName: string): Promise<string | null> {
    return (await this.row(productId, deviceName))?.secret ?? null;
  }

  /** What verifyDeviceLogin needs (lib/server/auth/device-auth.ts). */
  async deviceAuthRecord(productId: string, deviceName: string): Promise<DeviceAuthRecord | null> {
    return (await this.deviceAuthRecords([{ productId, deviceName }])).get(`${productId}/${deviceName}`) ?? null;
  }

  /**
   * The records of those of `devices` that are registered, by "productId/deviceName", in one
   * query: a client id may split into a product id and a device name several ways
   * (auth/device-auth.ts, clientIdSplits), and one read per split made a login cost up to ten
   * (about 140 µs of the broker's thread each; on PostgreSQL, ten round trips).
   */
  async deviceAuthRecords(devices: readonly { productId: string; deviceName: string }[]): Promise<Map<string, DeviceAuthRecord>> {
    const out = new Map<string, DeviceAuthRecord>();
    if (devices.length === 0) return out;
    const rows = await this.sql.all<Pick<DeviceRow, "product_id" | "device_name" | "secret" | "disabled">>(
      `SELECT product_id, device_name, secret, disabled FROM devices WHERE ${devices.map(() => "(product_id = ? AND device_name = ?)").join(" OR ")}`,
      devices.flatMap((d) => [d.productId, d.deviceName]),
    );
    for (const r of rows) out.set(`${r.product_id}/${r.device_name}`, { secret: r.secret, disabled: r.disabled !== 0 });
    return out;
  }

  async deviceState(productId: string, deviceName: string): Promise<DeviceState> {
    const key = stateKey(productId, deviceName);
    const known = this.states.get(key);
    const now = this.now();
    if (known !== undefined && now - known.at < STATE_CACHE_MS) return known.state;
    const row = await this.row(productId, deviceName);
    return row ? this.remember(row, now) : "not_found";
  }

  private remember(row: Pick<DeviceRow, "product_id" | "device_name" | "disabled">, at: number): DeviceState {
    const state = row.disabled !== 0 ? "disabled" : "ok";
    if (this.states.size >= STATE_CACHE_MAX) this.states.clear();
    this.states.set(stateKey(row.product_id, row.device_name), { state, at });
    return state;
  }

  private forget(productId: string, deviceName: string): void {
    this.states.delete(stateKey(productId, deviceName));
  }

  async setDisabled(productId: string, deviceName: string, disabled: boolean): Promise<DeviceInfo> {
    const { changes } = await this.sql.run(`UPDATE devices SET disabled = ? WHERE product_id = ? AND device_name = ?`, [
      disabled ? 1 : 0,
      productId,
      deviceName,
    ]);
    this.forget(productId, deviceName);
    if (changes === 0) throw deviceNotFound(productId, deviceName);
    if (disabled) this.revoked(productId, deviceName);
    return (await this.getDevice(productId, deviceName))!;
  }

  async deleteDevice(productId: string, deviceName: string): Promise<void> {
    const { changes } = await this.sql.run(`DELETE FROM devices WHERE product_id = ? AND device_name = ?`, [productId, deviceName]);
    this.forget(productId, deviceName);
    if (changes === 0) throw deviceNotFound(productId, deviceName);
    this.revoked(productId, deviceName);
  }

  /** A new secret (shown once, like at creation); the old one no longer logs in. */
  async rotateSecret(productId: string, deviceName: string): Promise<NewDevice> {
    const secret = randomBytes(16).toString("base64");
    const { changes } = await this.sql.run(`UPDATE devices SET secret = ? WHERE product_id = ? AND device_name = ?`, [secret, productId, deviceName]);
    if (changes === 0) throw deviceNotFound(productId, deviceName);
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
