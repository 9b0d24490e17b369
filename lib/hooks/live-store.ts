import { LIVE_CALLS_TOPIC, LIVE_PRESENCE_TOPIC, preview, type LiveCallUpdate, type LivePresence, type PayloadPreview } from "../rrpc/live";
import { parseRrpcTopic } from "../rrpc/topics";
import type { CallStatus } from "../rrpc/types";

export type LiveRow = {
  processId: string;
  productId: string;
  deviceName: string;
  status: CallStatus;
  /** epoch ms when the call started (hub) or was first seen (raw traffic) */
  at: number;
  request?: PayloadPreview;
  reply?: PayloadPreview;
  rttMs?: number;
  timeoutMs?: number;
  late: boolean;
  duplicate: boolean;
  foreign: boolean;
  /** The hub made this call (its feed told us); otherwise only MQTT traffic was seen. */
  viaHub: boolean;
};

export type LiveSnapshot = {
  /** Newest first. */
  rows: readonly LiveRow[];
  /** Rows dropped to cap memory. */
  dropped: number;
  /** Messages ingested so far. */
  messages: number;
  presence: ReadonlyMap<string, boolean>;
};

export const MAX_ROWS = 5000;

export const deviceKey = (productId: string, deviceName: string) => `${productId}/${deviceName}`;

/**
 * The browser's live view of RRPC traffic: raw request/reply messages and the hub's feed,
 * paired into one row per processId. Memory is capped; snapshots are immutable and rebuilt
 * at most once per flush, so a view can render a window of them at any event rate.
 */
export class LiveStore {
  private readonly rows = new Map<string, LiveRow>();
  private readonly presence = new Map<string, boolean>();
  private dropped = 0;
  private messages = 0;
  private dirty = false;
  /** Immutable copies handed out in snapshots; a row is copied again only when it changed. */
  private readonly copies = new Map<string, LiveRow>();
  private readonly changed = new Set<string>();
  private snapshot: LiveSnapshot = { rows: [], dropped: 0, messages: 0, presence: new Map() };

  constructor(private readonly maxRows = MAX_ROWS) {}

  ingest(topic: string, payload: Uint8Array, now = Date.now()): void {
    this.messages++;
    this.dirty = true;
    if (topic === LIVE_CALLS_TOPIC) return this.hubUpdates(payload);
    if (topic === LIVE_PRESENCE_TOPIC) return this.presenceUpdates(payload);
    const t = parseRrpcTopic(topic);
    if (!t) return;
    if (t.direction === "request") {
      const row = this.row(t.processId, t.productId, t.deviceName, now);
      row.request ??= preview(payload);
      return;
    }
    const row = this.rows.get(t.processId);
    // A reply from another device for this processId is not the answer (the hub ignores it too).
    if (!row || row.productId !== t.productId || row.deviceName !== t.deviceName) return;
    if (!row.reply) {
      this.changed.add(t.processId);
      row.reply = preview(payload);
      if (!row.viaHub && row.status === "pending") {
        row.status = "success";
        row.rttMs = Math.max(0, now - row.at);
      }
    }
  }

  private hubUpdates(payload: Uint8Array) {
    let updates: LiveCallUpdate[];
    try {
      updates = JSON.parse(new TextDecoder().decode(payload)) as LiveCallUpdate[];
    } catch {
      return;
    }
    if (!Array.isArray(updates)) return;
    for (const u of updates) {
      const row = this.row(u.processId, u.productId, u.deviceName, u.at - u.t);
      row.viaHub = true;
      row.at = u.at - u.t;
      row.status = u.status;
      row.timeoutMs = u.timeoutMs;
      if (u.request) row.request = u.request;
      if (u.reply) row.reply = u.reply;
      if (u.rttMs !== undefined) row.rttMs = u.rttMs;
      if (u.event === "late_reply") row.late = true;
      if (u.event === "duplicate_reply") row.duplicate = true;
      if (u.event === "foreign_reply") row.foreign = true;
    }
  }

  private presenceUpdates(payload: Uint8Array) {
    try {
      const list = JSON.parse(new TextDecoder().decode(payload)) as LivePresence[];
      for (const p of list) this.presence.set(deviceKey(p.productId, p.deviceName), p.online);
    } catch {
      // not ours
    }
  }

  private row(processId: string, productId: string, deviceName: string, at: number): LiveRow {
    this.changed.add(processId);
    let row = this.rows.get(processId);
    if (!row) {
      row = { processId, productId, deviceName, status: "pending", at, late: false, duplicate: false, foreign: false, viaHub: false };
      this.rows.set(processId, row);
      if (this.rows.size > this.maxRows) {
        const oldest = this.rows.keys().next().value as string;
        this.rows.delete(oldest);
        this.copies.delete(oldest);
        this.changed.delete(oldest);
        this.dropped++;
      }
    }
    return row;
  }

  clear(): void {
    this.rows.clear();
    this.copies.clear();
    this.changed.clear();
    this.dropped = 0;
    this.dirty = true;
  }

  /** The current snapshot; rebuilt only if something changed since the last call. */
  getSnapshot(): LiveSnapshot {
    if (this.dirty) {
      this.dirty = false;
      // Rows are copied so a paused view keeps what it showed while updates go on; unchanged
      // rows keep their identity, so a view can skip re-rendering them.
      for (const id of this.changed) {
        const r = this.rows.get(id);
        if (r) this.copies.set(id, { ...r });
      }
      this.changed.clear();
      const rows: LiveRow[] = [];
      for (const id of this.rows.keys()) rows.push(this.copies.get(id)!);
      rows.reverse();
      this.snapshot = { rows, dropped: this.dropped, messages: this.messages, presence: new Map(this.presence) };
    }
    return this.snapshot;
  }
}
