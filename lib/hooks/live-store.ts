import {
  LIVE_CALLS_TOPIC,
  LIVE_PRESENCE_TOPIC,
  preview,
  previewBase64,
  type LiveCallUpdate,
  type LivePresence,
  type PayloadPreview,
} from "../rrpc/live";
import { parseRrpcTopic } from "../rrpc/topics";
import type { CallsPage } from "../rrpc/api";
import type { CallCaller, CallEventType, CallJson, CallStatus } from "../rrpc/types";

export type LiveRow = {
  processId: string;
  productId: string;
  deviceName: string;
  /** Only moves forward: pending, then one terminal status (the hub's word wins over what raw traffic suggested). */
  status: CallStatus;
  /** epoch ms when the call started (hub) or was first seen (raw traffic) */
  at: number;
  request?: PayloadPreview;
  /** Only with a terminal status: a row never shows a reply while it says pending. */
  reply?: PayloadPreview;
  /** The hub's round trip; never measured by the browser. */
  rttMs?: number;
  timeoutMs?: number;
  late: boolean;
  duplicate: boolean;
  foreign: boolean;
  /** The hub made this call (its feed or its store told us); otherwise only MQTT traffic was seen. */
  viaHub: boolean;
  /** The caller's correlation token (POST /api/calls `clientRef`), when it sent one. */
  clientRef?: string;
  /** Who made the call (the hub's feed or store), when known. */
  caller?: CallCaller;
  /** The batch the call belongs to, when it is one of a batch's. */
  batchId?: string;
};

export type LiveSnapshot = {
  /** Newest first (by processId). */
  rows: readonly LiveRow[];
  /** Rows dropped to cap memory. */
  dropped: number;
  /** MQTT messages ingested so far. */
  messages: number;
  /** Calls first seen live so far (one per processId, however many messages it took): what a paused view counts. */
  calls: number;
  presence: ReadonlyMap<string, boolean>;
  /** clientRef → processId, for the calls that carry one. */
  refs: ReadonlyMap<string, string>;
  /**
   * The store's paging cursor for calls older than those in memory: undefined until the first
   * page from the store was merged, null when the store has none older.
   */
  olderBefore: string | null | undefined;
};

/** What one store hands to another (the worker's to the page's): rows changed since the last delta. */
export type LiveDelta = {
  rows: LiveRow[];
  removed: string[];
  dropped: number;
  messages: number;
  calls: number;
  presence: [string, boolean][] | null;
  olderBefore: string | null | undefined;
};

export const MAX_ROWS = 5000;

export const deviceKey = (productId: string, deviceName: string) => `${productId}/${deviceName}`;

/** processIds are decimals without leading zeros: the longer is the larger. */
export function compareProcessIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

const EXTRA_REPLIES: ReadonlySet<CallEventType> = new Set(["late_reply", "duplicate_reply", "foreign_reply"]);

function samePreview(a: PayloadPreview | undefined, b: PayloadPreview | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.bytes === b.bytes && a.text === b.text && a.base64 === b.base64 && a.truncated === b.truncated;
}

function sameCaller(a: CallCaller | undefined, b: CallCaller | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.kind === b.kind && a.id === b.id && a.name === b.name;
}

/** A stored call as the live view's row (the same row the feed would have drawn). */
export function rowFromCall(c: CallJson): LiveRow {
  const row: LiveRow = {
    processId: c.processId,
    productId: c.productId,
    deviceName: c.deviceName,
    status: c.status,
    at: Date.parse(c.startedAt),
    request: previewBase64(c.request.payloadBase64),
    timeoutMs: c.timeoutMs,
    late: c.events.some((e) => e.type === "late_reply"),
    duplicate: c.events.some((e) => e.type === "duplicate_reply"),
    foreign: c.events.some((e) => e.type === "foreign_reply"),
    viaHub: true,
  };
  if (c.caller) row.caller = c.caller;
  if (c.batchId) row.batchId = c.batchId;
  if (c.status !== "pending") {
    if (c.reply) row.reply = previewBase64(c.reply.payloadBase64);
    if (c.rttMs !== undefined) row.rttMs = c.rttMs;
  }
  return row;
}

/**
 * The browser's live view of RRPC traffic: raw request/reply messages, the hub's feed and pages
 * of stored calls, merged into one row per processId, whatever order they come in. A row's status
 * only moves forward (pending → terminal); the hub's terminal status is final. Memory is capped;
 * snapshots are immutable and rebuilt only when asked after a change, so a view can render a
 * window of them at any event rate.
 */
export class LiveStore {
  private readonly rows = new Map<string, LiveRow>();
  /** processIds, oldest first. */
  private readonly order: string[] = [];
  private readonly presence = new Map<string, boolean>();
  private readonly refs = new Map<string, string>();
  private dropped = 0;
  private messages = 0;
  private calls = 0;
  private olderBefore: string | null | undefined = undefined;
  private dirty = false;
  private rowsDirty = false;
  private presenceDirty = false;
  private refsDirty = false;
  /** Immutable copies handed out in snapshots; a row is copied again only when it changed. */
  private readonly copies = new Map<string, LiveRow>();
  private readonly changed = new Set<string>();
  /** For deltas: rows changed and removed, presence changed, since the last delta. */
  private readonly deltaChanged = new Set<string>();
  private deltaRemoved: string[] = [];
  private deltaPresence = false;
  private sentMessages = 0;
  private snapshot: LiveSnapshot = {
    rows: [],
    dropped: 0,
    messages: 0,
    calls: 0,
    presence: new Map(),
    refs: new Map(),
    olderBefore: undefined,
  };

  constructor(private maxRows = MAX_ROWS) {}

  /** One MQTT message; `now` (epoch ms) dates a call first seen as raw traffic. */
  ingest(topic: string, payload: Uint8Array, now = Date.now()): void {
    this.messages++;
    this.dirty = true;
    if (topic === LIVE_CALLS_TOPIC) return this.hubUpdates(payload);
    if (topic === LIVE_PRESENCE_TOPIC) return this.presenceUpdates(payload);
    const t = parseRrpcTopic(topic);
    if (!t) return;
    if (t.direction === "request") {
      const row = this.row(t.processId, t.productId, t.deviceName, now, true);
      if (!row.request) {
        row.request = preview(payload);
        this.touch(row.processId);
      }
      return;
    }
    const row = this.rows.get(t.processId);
    // A reply from another device for this processId is not the answer (the hub ignores it too).
    if (!row || row.productId !== t.productId || row.deviceName !== t.deviceName) return;
    // The hub's calls take their outcome, reply and round trip from the hub alone; a call only
    // seen on the broker is answered by its first reply.
    if (row.viaHub || row.status !== "pending") return;
    row.status = "success";
    row.reply = preview(payload);
    this.touch(row.processId);
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
      if (typeof u?.processId !== "string" || typeof u.at !== "number" || typeof u.t !== "number") continue;
      const row = this.row(u.processId, u.productId, u.deviceName, u.at - u.t, !EXTRA_REPLIES.has(u.event));
      this.merge(row, {
        status: u.status,
        at: u.at - u.t,
        timeoutMs: u.timeoutMs,
        request: u.request,
        reply: u.reply,
        rttMs: u.rttMs,
        clientRef: u.clientRef,
        caller: u.caller,
        batchId: u.batchId,
        late: u.event === "late_reply",
        duplicate: u.event === "duplicate_reply",
        foreign: u.event === "foreign_reply",
      });
    }
  }

  /** The hub's word on a call (its feed or its store), merged so that the status never goes back. */
  private merge(row: LiveRow, u: Omit<LiveRow, "processId" | "productId" | "deviceName" | "viaHub">) {
    let changed = !row.viaHub;
    row.viaHub = true;
    if (row.at !== u.at) {
      row.at = u.at;
      changed = true;
    }
    if (u.timeoutMs !== undefined && row.timeoutMs !== u.timeoutMs) {
      row.timeoutMs = u.timeoutMs;
      changed = true;
    }
    if (u.request && !samePreview(row.request, u.request)) {
      row.request = u.request;
      changed = true;
    }
    if (u.clientRef && row.clientRef !== u.clientRef) {
      row.clientRef = u.clientRef;
      this.refs.set(u.clientRef, row.processId);
      this.refsDirty = changed = true;
    }
    if (u.caller && !sameCaller(row.caller, u.caller)) {
      row.caller = u.caller;
      changed = true;
    }
    if (u.batchId && row.batchId !== u.batchId) {
      row.batchId = u.batchId;
      changed = true;
    }
    // Terminal is final: a pending update that comes after it (a stored page read while the call
    // was in flight, a reordered message) changes nothing. The reply and the round trip are the
    // hub's and come with its terminal status.
    if (u.status !== "pending") {
      if (row.status !== u.status || !samePreview(row.reply, u.reply) || (u.rttMs !== undefined && row.rttMs !== u.rttMs)) {
        row.status = u.status;
        row.reply = u.reply;
        if (u.rttMs !== undefined) row.rttMs = u.rttMs;
        changed = true;
      }
    }
    if (u.late && !row.late) row.late = changed = true;
    if (u.duplicate && !row.duplicate) row.duplicate = changed = true;
    if (u.foreign && !row.foreign) row.foreign = changed = true;
    if (changed) this.touch(row.processId);
  }

  private presenceUpdates(payload: Uint8Array) {
    try {
      const list = JSON.parse(new TextDecoder().decode(payload)) as LivePresence[];
      for (const p of list) this.presence.set(deviceKey(p.productId, p.deviceName), p.online);
      this.presenceDirty = this.deltaPresence = true;
    } catch {
      // not ours
    }
  }

  /**
   * A page of stored calls (GET /api/calls, newest first), merged by processId with what the
   * live feed brought: `latest` is the newest page (on load, after a reconnect); `older` is the
   * page before the oldest row in memory, and sets the cursor for the next one.
   */
  mergeCalls(page: CallsPage, kind: "latest" | "older"): void {
    this.dirty = true;
    if (kind === "older") {
      // Rows the operator asked for are not dropped by the cap at once.
      this.maxRows += page.calls.length;
      this.olderBefore = page.nextBefore;
    } else if (this.olderBefore === undefined) this.olderBefore = page.nextBefore;
    for (const c of page.calls) {
      const r = rowFromCall(c);
      const row = this.row(r.processId, r.productId, r.deviceName, r.at, false);
      this.merge(row, r);
    }
  }

  private row(processId: string, productId: string, deviceName: string, at: number, live: boolean): LiveRow {
    let row = this.rows.get(processId);
    if (row) return row;
    row = { processId, productId, deviceName, status: "pending", at, late: false, duplicate: false, foreign: false, viaHub: false };
    this.rows.set(processId, row);
    this.insert(processId);
    if (live) this.calls++;
    this.touch(processId);
    while (this.rows.size > this.maxRows) this.remove(this.order[0]!);
    return row;
  }

  private insert(processId: string) {
    const o = this.order;
    // Live rows are almost always the newest.
    if (o.length === 0 || compareProcessIds(o[o.length - 1]!, processId) < 0) {
      o.push(processId);
      return;
    }
    let lo = 0;
    let hi = o.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareProcessIds(o[mid]!, processId) < 0) lo = mid + 1;
      else hi = mid;
    }
    o.splice(lo, 0, processId);
  }

  /** Drops the oldest row to cap memory: paging back in the store reaches it again. */
  private remove(processId: string) {
    const row = this.rows.get(processId);
    this.rows.delete(processId);
    this.order.splice(this.order.indexOf(processId), 1);
    this.copies.delete(processId);
    this.changed.delete(processId);
    this.deltaChanged.delete(processId);
    this.deltaRemoved.push(processId);
    if (row?.clientRef && this.refs.get(row.clientRef) === processId) {
      this.refs.delete(row.clientRef);
      this.refsDirty = true;
    }
    this.dropped++;
    this.rowsDirty = this.dirty = true;
    const oldest = this.order[0];
    if (oldest !== undefined && this.olderBefore !== undefined) this.olderBefore = oldest;
  }

  private touch(processId: string) {
    this.changed.add(processId);
    this.deltaChanged.add(processId);
    this.rowsDirty = this.dirty = true;
  }

  /** The current snapshot; rebuilt only if something changed since the last call. */
  getSnapshot(): LiveSnapshot {
    if (!this.dirty) return this.snapshot;
    this.dirty = false;
    let rows = this.snapshot.rows;
    if (this.rowsDirty) {
      this.rowsDirty = false;
      this.copyChanged();
      const list: LiveRow[] = new Array<LiveRow>(this.order.length);
      for (let i = 0, n = this.order.length; i < n; i++) list[i] = this.copies.get(this.order[n - 1 - i]!)!;
      rows = list;
    }
    let presence = this.snapshot.presence;
    if (this.presenceDirty) {
      this.presenceDirty = false;
      presence = new Map(this.presence);
    }
    let refs = this.snapshot.refs;
    if (this.refsDirty) {
      this.refsDirty = false;
      refs = new Map(this.refs);
    }
    this.snapshot = {
      rows,
      dropped: this.dropped,
      messages: this.messages,
      calls: this.calls,
      presence,
      refs,
      olderBefore: this.olderBefore,
    };
    return this.snapshot;
  }

  /**
   * Rows are copied so a paused view keeps what it showed while updates go on; unchanged rows
   * keep their identity, so a view can skip re-rendering them.
   */
  private copyChanged() {
    for (const id of this.changed) {
      const r = this.rows.get(id);
      if (r) this.copies.set(id, { ...r });
    }
    this.changed.clear();
  }

  /** Whether the next delta would carry rows or presence, not only counters. */
  get rowsChanged(): boolean {
    return this.deltaChanged.size > 0 || this.deltaRemoved.length > 0 || this.deltaPresence;
  }

  /** What changed since the last delta, for a store that mirrors this one (applyDelta); null when nothing did. */
  takeDelta(): LiveDelta | null {
    if (this.deltaChanged.size === 0 && this.deltaRemoved.length === 0 && !this.deltaPresence && this.messages === this.sentMessages) return null;
    this.copyChanged();
    const rows: LiveRow[] = [];
    for (const id of this.deltaChanged) {
      const r = this.copies.get(id);
      if (r) rows.push(r);
    }
    this.deltaChanged.clear();
    const delta: LiveDelta = {
      rows,
      removed: this.deltaRemoved,
      dropped: this.dropped,
      messages: this.messages,
      calls: this.calls,
      presence: this.deltaPresence ? [...this.presence] : null,
      olderBefore: this.olderBefore,
    };
    this.deltaRemoved = [];
    this.deltaPresence = false;
    this.sentMessages = this.messages;
    return delta;
  }
  /** Mirrors another store: its rows as they are, its counters. */
  applyDelta(d: LiveDelta): void {
    this.dirty = true;
    for (const id of d.removed) {
      const row = this.rows.get(id);
      if (!row) continue;
      this.rows.delete(id);
      this.order.splice(this.order.indexOf(id), 1);
      this.copies.delete(id);
      if (row.clientRef && this.refs.get(row.clientRef) === id) {
        this.refs.delete(row.clientRef);
        this.refsDirty = true;
      }
      this.rowsDirty = true;
    }
    for (const r of d.rows) {
      if (!this.rows.has(r.processId)) this.insert(r.processId);
      this.rows.set(r.processId, r);
      // Received rows are already copies: they are the snapshot's.
      this.copies.set(r.processId, r);
      if (r.clientRef && this.refs.get(r.clientRef) !== r.processId) {
        this.refs.set(r.clientRef, r.processId);
        this.refsDirty = true;
      }
      this.rowsDirty = true;
    }
    if (d.presence) {
      this.presence.clear();
      for (const [k, v] of d.presence) this.presence.set(k, v);
      this.presenceDirty = true;
    }
    this.dropped = d.dropped;
    this.messages = d.messages;
    this.calls = d.calls;
    this.olderBefore = d.olderBefore;
  }
}

/** The row of this call in a snapshot's rows (newest first), by binary search. */
export function findRow(rows: readonly LiveRow[], processId: string): LiveRow | undefined {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareProcessIds(rows[mid]!.processId, processId);
    if (c === 0) return rows[mid];
    if (c > 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}
