import type Database from "better-sqlite3";
import { DomainError } from "../core/errors";
import { PROCESS_ID_MAX, PROCESS_ID_MIN, formatProcessId } from "../../rrpc/process-id";
import type { CallerKind, CallStatus } from "../../rrpc/types";
import { clock, type CallRecord, type CallSource, type StoredEvent } from "../core/call";
import { NOTHING_WRITTEN, StoreWriter, packCalls, type PackedBatch, type Written } from "./writer";
import { batchWriter } from "./rows.mjs";
import { log } from "../core/log";
import { BUCKET_OF, DEVICE_BUCKET, NOT_SUCCESS } from "./migrations";
import { openDatabase } from "./database";
import type { Dialect } from "./sql";

/** processIds reserved per synchronous write; a crash skips at most this many. */
const ID_BLOCK = 1000;
/** Changes are written in one transaction this often. */
const FLUSH_MS = 25;
/**
 * A call still pending is first written once it is this old: most calls end sooner and are then
 * written once, not twice (the store was the engine's largest cost at 1,000 calls in flight:
 * node --cpu-prof, bench/profile-engine.ts). A crash loses at most this much of the calls in
 * flight; a graceful stop writes them all.
 */
export const PENDING_WRITE_AFTER_MS = 250;

export type CallFilter = {
  productId?: string;
  deviceName?: string;
  /** Ids starting with this, in any case (ASCII). */
  productIdPrefix?: string;
  deviceNamePrefix?: string;
  status?: CallStatus;
  batchId?: string;
  commandId?: string;
  callerKind?: CallerKind;
  callerId?: string;
  /** Only calls with a smaller processId (paging cursor). */
  before?: number;
  /** Started at or after / before this epoch ms. */
  from?: number;
  to?: number;
  limit: number;
};

export type DeviceStats = {
  productId: string;
  deviceName: string;
  calls: number;
  successes: number;
  lastProcessId: string;
  lastStatus: CallStatus;
  lastAt: number;
  /** Round trips of the most recent successful calls (at most STATS_RECENT), newest first. */
  recentRtts: number[];
};

export const STATS_RECENT = 100;

export type Row = {
  process_id: number;
  product_id: string;
  device_name: string;
  source: string;
  status: string;
  request: Buffer;
  reply: Buffer | null;
  timeout_ms: number;
  started_at: number;
  ended_at: number | null;
  rtt_ms: number | null;
  events: string;
  batch_id: string | null;
  command_id: string | null;
  caller_kind: CallerKind | null;
  caller_id: string | null;
  caller_name: string | null;
};

export type ChunkRow = { process_id: number; first: number; events: string };

/** A batch posted to the writer thread: what it writes of each call, and who waits for it. */
type Batch = { seq: number; calls: { call: CallRecord; written: Written }[]; waiters: (() => void)[] };

/**
 * At most this many calls are packed for the writer in one turn of the event loop; the rest in
 * the next turns. Packing costs the hub's thread a few µs a call, and a timer due meanwhile (the
 * next deadlines of calls timing out together) waits for it: in slices, timers run in between.
 */
export const FLUSH_SLICE = 128;
/** Batches of at most this many calls are committed on the hub's thread when the writer thread is idle. */
const LOCAL_BATCH_MAX = 4;
/** While the store cannot write, it tries again this often. */
const RETRY_WRITE_MS = 1000;

/** One device's row of the stats query (both stores). */
export type DeviceStatsRow = { product_id: string; device_name: string; calls: number; successes: number; first_id: number; last_id: number };

/** A device's stats as the API shows them, from its row, its last call and its recent round trips. */
export function deviceStatsOf(r: DeviceStatsRow, last: { status: string; started_at: number }, recentRtts: number[]): DeviceStats {
  return {
    productId: r.product_id,
    deviceName: r.device_name,
    calls: r.calls,
    successes: r.successes,
    lastProcessId: String(r.last_id),
    lastStatus: last.status as CallStatus,
    lastAt: last.started_at,
    recentRtts,
  };
}

/** What a call gets while the store cannot write (either backend): refused before anything is published. */
export function storeUnavailable(failure: string | null): DomainError {
  return new DomainError("store_unavailable", `the store cannot write (${failure}); no call was made`);
}

/**
 * SQLite file holding every call and its trace.
 *
 * Writes are batched (group commit): the hub marks a call dirty; the calls that ended in one turn
 * of the event loop go to the writer thread (StoreWriter) as one batch, and the writer commits
 * every batch that waits for it in one transaction. The hub
 * answers a call once `written` resolves, that is, once its outcome is committed: a call that was
 * answered is never lost, even to kill -9 (README, "Durability"). Reads wait for the worker's
 * batches first, so they see what the hub has done.
 *
 * When a write fails (a full disk, an unwritable file) the store is unavailable: the hub refuses
 * new calls (`store_unavailable`), calls that still end are kept here and written once a retry
 * succeeds, and then the store is available again by itself.
 */
export class Store {
  /** The SQLite handle, for modules that keep their own tables in the same file (registry, keys). */
  readonly db: Database.Database;
  private readonly dirty = new Map<number, CallRecord>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private nextId: number;
  private reservedUntil: number;
  private readonly stmts;
  private readonly writeLocal: (batches: PackedBatch[]) => void;
  private closed = false;
  /** The writer thread (null for ":memory:", which another connection cannot open). */
  readonly writer: StoreWriter | null = null;
  /** Batches posted to the writer and not yet finished, oldest first. */
  private readonly batches: Batch[] = [];
  /** Calls in those batches: their latest state, by id. */
  private readonly inflight = new Map<number, { call: CallRecord; seq: number }>();
  /** Of each call: what committed batches hold, and what batches posted will hold once committed. */
  private readonly committed = new WeakMap<CallRecord, Written>();
  private readonly posted = new WeakMap<CallRecord, Written>();
  /** Callers of `written` for calls not yet in a batch. */
  private readonly waiters = new Map<number, (() => void)[]>();
  /** Batches up to this sequence number are written again even if they commit: one before them failed. */
  private distrustUntil = 0;
  private failuresSeen = 0;
  private failure: string | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly path: string,
    opts: { checkpointEveryMs?: number } = {},
  ) {
    this.db = openDatabase(path);
    this.stmts = {
      get: this.db.prepare<[number], Row>(`SELECT * FROM calls WHERE process_id = ?`),
      chunksOf: this.db.prepare<[number], ChunkRow>(`SELECT * FROM call_events WHERE process_id = ? ORDER BY first`),
      chunksIn: this.db.prepare<[string], ChunkRow>(
        `SELECT * FROM call_events WHERE process_id IN (SELECT value FROM json_each(?)) ORDER BY process_id, first`,
      ),
      getMeta: this.db.prepare<[string], { value: number }>(`SELECT value FROM meta WHERE key = ?`),
      setMeta: this.db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      maxId: this.db.prepare<[], { m: number | null }>(`SELECT max(process_id) AS m FROM calls`),
      minId: this.db.prepare<[], { m: number | null }>(`SELECT min(process_id) AS m FROM calls`),
    };
    this.writeLocal = batchWriter(this.db);
    if (path !== ":memory:") {
      this.db.pragma("wal_autocheckpoint = 0");
      this.writer = new StoreWriter(
        path,
        (first, last, error) => {
          for (let seq = first; seq <= last; seq++) this.batchDone(seq, error);
        },
        () => this.writerGone(),
        opts.checkpointEveryMs,
      );
    }
    const reserved = this.stmts.getMeta.get("reserved_process_id")?.value ?? 0;
    const maxId = this.stmts.maxId.get()?.m ?? 0;
    this.nextId = Math.max(PROCESS_ID_MIN, reserved, maxId + 1);
    this.reservedUntil = this.nextId;
  }

  /** Why the store cannot write, while it cannot; null when it can. */
  get unavailable(): string | null {
    return this.failure;
  }

  /**
   * The next processId: strictly increasing, also across restarts and crashes, because a block
   * is reserved on disk (synchronously) before any id of it is handed out.
   */
  allocateProcessId(): { processId: string; messageId: number } {
    if (this.failure) throw storeUnavailable(this.failure);
    if (this.nextId >= this.reservedUntil) {
      if (this.nextId > PROCESS_ID_MAX) throw new Error("processId space exhausted");
      const until = Math.min(this.nextId + ID_BLOCK, PROCESS_ID_MAX + 1);
      // Written first, then used: ids past a reservation that failed are never handed out.
      try {
        this.stmts.setMeta.run("reserved_process_id", until);
      } catch (err) {
        this.fail((err as Error).message);
        throw storeUnavailable(this.failure);
      }
      this.reservedUntil = until;
    }
    const messageId = this.nextId++;
    return { processId: formatProcessId(messageId), messageId };
  }

  /** Records the call's current state: an ended call goes with the next batch, a pending one later (PENDING_WRITE_AFTER_MS). */
  save(call: CallRecord): void {
    if (this.closed) return;
    this.dirty.set(call.messageId, call);
    if (call.status === "pending") this.timer ??= setTimeout(() => ((this.timer = null), this.flushBatch()), FLUSH_MS);
    else this.immediate ??= setImmediate(() => ((this.immediate = null), this.flushBatch()));
  }

  /**
   * Resolves once the call's state as last saved is committed, or once it is known that it
   * cannot be yet (the store is unavailable: the call is kept and written when it recovers).
   */
  written(call: CallRecord): Promise<void> {
    if (this.closed || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.dirty.has(call.messageId)) {
        const list = this.waiters.get(call.messageId);
        if (list) list.push(resolve);
        else this.waiters.set(call.messageId, [resolve]);
        return;
      }
      const seq = this.inflight.get(call.messageId)?.seq;
      const batch = seq === undefined ? undefined : this.batches.find((b) => b.seq === seq);
      if (batch) batch.waiters.push(resolve);
      else resolve();
    });
  }

  /** Every ended call, and pending calls old enough to be worth writing: FLUSH_SLICE of them now, the rest in the next turn. */
  private flushBatch(): void {
    if (this.closed || this.failure) return;
    const youngSince = clock.epoch(clock.now()) - PENDING_WRITE_AFTER_MS;
    const batch: CallRecord[] = [];
    let more = false;
    for (const [id, c] of this.dirty) {
      if (c.status === "pending" && c.startedAt > youngSince) continue;
      if (batch.length === FLUSH_SLICE) {
        more = true;
        break;
      }
      batch.push(c);
      this.dirty.delete(id);
    }
    if (batch.length > 0) this.writeBatch(batch);
    if (more) this.immediate ??= setImmediate(() => ((this.immediate = null), this.flushBatch()));
    else if (this.dirty.size > 0) this.timer ??= setTimeout(() => ((this.timer = null), this.flushBatch()), FLUSH_MS);
  }

  /** Writes everything not yet written and waits until the writer has finished it (before reads, at stop and exit). */
  flush(): void {
    if (this.closed) return;
    if (this.dirty.size > 0 && !this.failure) {
      const batch = [...this.dirty.values()];
      this.dirty.clear();
      this.writeBatch(batch);
    }
    if (this.batches.length > 0) this.writer?.waitForBatches();
  }

  /** To the writer thread if it runs, else on this connection. */
  private writeBatch(calls: CallRecord[]): void {
    const entries = calls.map((call) => ({ call, from: this.posted.get(call) ?? NOTHING_WRITTEN }));
    const { batch, written } = packCalls(entries);
    const waiters: (() => void)[] = [];
    for (const c of calls) {
      const w = this.waiters.get(c.messageId);
      if (w) waiters.push(...w);
      this.waiters.delete(c.messageId);
    }
    // A few calls with the writer idle: committed here, sooner than a round trip to the thread
    // (the answer waits for it); under load batches are larger and go to the writer.
    const local = calls.length <= LOCAL_BATCH_MAX && this.batches.length === 0;
    const seq = local ? 0 : (this.writer?.post(batch) ?? 0);
    if (seq === 0) {
      try {
        this.writeLocal([batch]);
        calls.forEach((c, i) => written[i] && this.wrote(c, written[i]));
      } catch (err) {
        for (const c of calls) this.dirty.set(c.messageId, c);
        this.fail((err as Error).message);
      }
      for (const w of waiters) w();
      return;
    }
    const b: Batch = { seq, calls: [], waiters };
    calls.forEach((call, i) => {
      const w = written[i];
      if (!w) return;
      b.calls.push({ call, written: w });
      this.posted.set(call, w);
      this.inflight.set(call.messageId, { call, seq });
    });
    this.batches.push(b);
  }

  private wrote(call: CallRecord, w: Written): void {
    this.committed.set(call, w);
    this.posted.set(call, w);
  }

  /** The writer's word on the oldest batch posted. */
  private batchDone(seq: number, error: string | undefined): void {
    const b = this.batches.shift();
    if (!b || b.seq !== seq) throw new Error(`store writer answered batch ${seq}, expected ${b?.seq}`);
    if (error) {
      this.failuresSeen++;
      if (!this.failure) this.distrustUntil = this.writer!.postedSeq;
    }
    const ok = !error && seq > this.distrustUntil;
    for (const { call, written } of b.calls) {
      if (this.inflight.get(call.messageId)?.seq === seq) this.inflight.delete(call.messageId);
      if (ok) this.committed.set(call, written);
      // Kept for the retry, which writes from what is known to be committed.
      else if (!this.dirty.has(call.messageId)) this.dirty.set(call.messageId, call);
    }
    if (error) this.fail(error);
    for (const w of b.waiters) w();
  }

  /**
   * The store cannot write: new calls are refused and what ends is kept, until a retry of
   * everything kept succeeds.
   */
  private fail(why: string): void {
    if (this.closed) return;
    if (!this.failure) log.error("the store cannot write: new calls are refused until it can", { error: why });
    this.failure = why;
    for (const list of this.waiters.values()) for (const w of list) w();
    this.waiters.clear();
    this.retryTimer ??= setInterval(() => this.retry(), RETRY_WRITE_MS);
    this.retryTimer.unref();
  }

  /** Once the writer has finished what it had: everything kept, on this connection, with a write of the reservation as a probe. */
  private retry(): void {
    if (this.closed || this.batches.length > 0) return;
    const calls = [...this.dirty.values()];
    for (const c of calls) this.posted.set(c, this.committed.get(c) ?? NOTHING_WRITTEN);
    const { batch, written } = packCalls(calls.map((call) => ({ call, from: this.posted.get(call)! })));
    try {
      this.db.transaction(() => {
        this.stmts.setMeta.run("reserved_process_id", this.reservedUntil);
        this.writeLocal([batch]);
      })();
    } catch (err) {
      this.failure = (err as Error).message;
      return;
    }
    calls.forEach((c, i) => written[i] && this.wrote(c, written[i]));
    for (const c of calls) this.dirty.delete(c.messageId);
    log.info("the store can write again", { callsWritten: calls.length });
    this.failure = null;
    clearInterval(this.retryTimer!);
    this.retryTimer = null;
    if (this.dirty.size > 0) this.flushBatch();
  }

  /** The writer thread failed: what it may not have committed is written here, and so is everything after. */
  private writerGone(): void {
    if (this.closed) return;
    this.db.pragma("wal_autocheckpoint = 1000");
    const lost = this.batches.splice(0);
    this.inflight.clear();
    for (const b of lost) {
      for (const { call } of b.calls) {
        this.posted.set(call, this.committed.get(call) ?? NOTHING_WRITTEN);
        this.dirty.set(call.messageId, call);
      }
      for (const w of b.waiters) w();
    }
    if (!this.failure) this.flushBatch();
  }

  /** One call: the state not yet written if there is one, else the stored row. */
  get(messageId: number): CallRecord | null {
    if (messageId >= this.nextId) return null;
    const latest = this.dirty.get(messageId) ?? this.inflight.get(messageId)?.call;
    if (latest) return latest;
    const row = this.stmts.get.get(messageId);
    if (!row) return null;
    const call = fromRow(row, this.stmts.chunksOf.all(messageId));
    // What is in the file: a late reply recorded on it writes only the new event.
    this.wrote(call, { status: call.status, events: call.events.length });
    return call;
  }

  list(f: CallFilter): CallRecord[] {
    return this.page(f).calls;
  }

  /**
   * Like `list`, but the page ends before the row that would take its payloads past `maxBytes`
   * (it holds at least one row): a page of calls with large payloads is read in pieces instead of
   * all at once. `more`: rows matching the filter were left out.
   */
  page(f: CallFilter, maxBytes = Infinity): { calls: CallRecord[]; more: boolean } {
    this.flush();
    let limit = f.limit;
    let cut = false;
    if (maxBytes !== Infinity) {
      // length() of a BLOB is read from the record's header, not from the blob's pages.
      const sizes = this.select<{ size: number }>(f, "length(request) + coalesce(length(reply), 0) AS size");
      let total = 0;
      for (limit = 0; limit < sizes.length; limit++) {
        total += sizes[limit]!.size;
        if (limit > 0 && total > maxBytes) {
          cut = true;
          break;
        }
      }
    }
    const rows = limit === 0 ? [] : this.select<Row>({ ...f, limit }, "*");
    return { calls: this.withChunks(rows), more: cut || rows.length === f.limit };
  }

  /** How many calls match the filter; one device's are counted block by block of the device index. */
  count(f: Omit<CallFilter, "limit" | "before">): number {
    this.flush();
    const perBlock = byDevice(f);
    const stmt = this.db.prepare<(string | number)[], { n: number }>(`SELECT count(*) AS n FROM calls ${whereOf(f, perBlock ? 0 : undefined).where}`);
    if (!perBlock) return stmt.get(...whereOf(f).args)!.n;
    const oldest = this.stmts.minId.get()?.m;
    const newest = this.stmts.maxId.get()?.m;
    if (oldest === null || oldest === undefined || newest === null || newest === undefined) return 0;
    let n = 0;
    for (let b = bucketOf(newest); b >= bucketOf(oldest); b--) n += stmt.get(...whereOf(f, b).args)!.n;
    return n;
  }

  private select<R>(f: CallFilter, columns: string): R[] {
    if (!byDevice(f)) {
      const { sql, args } = listQuery(f, undefined, columns);
      return this.db.prepare<(string | number)[], R>(sql).all(...args);
    }
    const oldest = this.stmts.minId.get()?.m;
    if (oldest === null || oldest === undefined) return [];
    const stmt = this.db.prepare<(string | number)[], R>(listQuery(f, 0, columns).sql);
    const newest = Math.min(f.before ?? this.nextId, this.nextId) - 1;
    return newestBlocksFirst(newest, oldest, f.limit, (b, limit) => stmt.all(...listQuery({ ...f, limit }, b, columns).args));
  }

  /** Rows as calls, with the events appended to each after its row was written. */
  private withChunks(rows: Row[]): CallRecord[] {
    if (rows.length === 0) return [];
    const chunks = new Map<number, ChunkRow[]>();
    for (const c of this.stmts.chunksIn.all(JSON.stringify(rows.map((r) => r.process_id)))) {
      const list = chunks.get(c.process_id);
      if (list) list.push(c);
      else chunks.set(c.process_id, [c]);
    }
    return rows.map((r) => fromRow(r, chunks.get(r.process_id) ?? []));
  }

  /** Per device: call count, success count, last call, and the round trips of recent successes. */
  deviceStats(): DeviceStats[] {
    this.flush();
    const rows = this.db
      .prepare<[], DeviceStatsRow>(
        `SELECT product_id, device_name, count(*) AS calls, sum(status = 'success') AS successes, min(process_id) AS first_id, max(process_id) AS last_id
         FROM calls GROUP BY product_id, device_name`,
      )
      .all();
    const last = this.db.prepare<[number], { status: string; started_at: number }>(`SELECT status, started_at FROM calls WHERE process_id = ?`);
    const rtts = this.db.prepare<[number, string, string, number], { rtt_ms: number }>(
      `SELECT rtt_ms FROM calls WHERE ${BUCKET_OF} = ? AND product_id = ? AND device_name = ? AND status = 'success' ORDER BY process_id DESC LIMIT ?`,
    );
    return rows.map((r) => {
      const l = last.get(r.last_id)!;
      const recentRtts = newestBlocksFirst(r.last_id, r.first_id, STATS_RECENT, (b, limit) => rtts.all(b, r.product_id, r.device_name, limit)).map(
        (x) => x.rtt_ms,
      );
      return deviceStatsOf(r, l, recentRtts);
    });
  }

  /** Deletes the oldest ended calls beyond the newest `keep`, with their events; returns how many went. */
  prune(keep: number): number {
    this.flush();
    const cut = this.db.prepare<[number], { process_id: number }>(`SELECT process_id FROM calls ORDER BY process_id DESC LIMIT 1 OFFSET ?`).get(keep);
    if (!cut) return 0;
    return this.db.transaction(() => {
      const n = this.db.prepare(`DELETE FROM calls WHERE process_id <= ? AND status != 'pending'`).run(cut.process_id).changes;
      this.db
        .prepare(`DELETE FROM call_events WHERE process_id <= ? AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.process_id = call_events.process_id)`)
        .run(cut.process_id);
      return n;
    })();
  }

  /**
   * Calls left pending by a process that stopped without settling them (a crash, a kill):
   * ended as `interrupted`, with the event appended to their trace. Run once at start.
   */
  interruptPending(now: number): number {
    this.flush();
    const calls = this.withChunks(this.db.prepare<[], Row>(`SELECT * FROM calls WHERE status = 'pending' AND ${NOT_SUCCESS}`).all());
    for (const c of calls) {
      this.wrote(c, { status: c.status, events: c.events.length });
      c.status = "interrupted";
      c.endedAt = Math.max(now, c.startedAt);
      c.events.push({ type: "interrupted", t: c.endedAt - c.startedAt, detail: { reason: "hub restarted" } });
      this.dirty.set(c.messageId, c);
    }
    this.flush();
    return calls.length;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    // Batches the writer finished but whose word has not arrived: if one failed, they are written here.
    if (this.batches.length > 0 && this.writer!.failures > this.failuresSeen) {
      for (const b of this.batches.splice(0)) for (const { call } of b.calls) this.dirty.set(call.messageId, call);
      this.failure ??= "a write failed";
    }
    if (this.failure) {
      this.retry();
      if (this.failure) log.error("the store is closing without writing some calls", { calls: this.dirty.size, error: this.failure });
    }
    this.closed = true;
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.writer?.stop();
    this.db.close();
  }
}

/**
 * The device index is kept per block of DEVICE_BUCKET consecutive processIds. Keyed by device
 * alone, each batch of writes touched one index page per device called (up to a page per row
 * with 1,000 devices); within the newest block the pages are few. Calls of one device are then
 * read newest block first, one indexed query per block.
 */
export const bucketOf = (processId: number) => Math.floor(processId / DEVICE_BUCKET);

/** Up to `limit` rows from the blocks holding processIds newest..oldest, newest block first; `fetch` answers one block, newest first. */
export function newestBlocksFirst<T>(newest: number, oldest: number, limit: number, fetch: (bucket: number, limit: number) => T[]): T[] {
  const out: T[] = [];
  for (let b = bucketOf(newest); b >= bucketOf(oldest) && out.length < limit; b--) out.push(...fetch(b, limit - out.length));
  return out;
}

/** The SELECT behind Store.list, optionally within one block of the device index (exported so tests can check its query plan). */
export function listQuery(f: CallFilter, bucket?: number, columns = "*", dialect: Dialect = "sqlite"): { sql: string; args: (string | number)[] } {
  const { where, args } = whereOf(f, bucket, dialect);
  return { sql: `SELECT ${columns} FROM calls ${where} ORDER BY process_id DESC LIMIT ?`, args: [...args, f.limit] };
}

const likePrefix = (p: string | undefined) => (p === undefined ? undefined : p.replace(/[\\%_]/g, (c) => `\\${c}`) + "%");

/** Whether a filter names devices: then it is read block by block of the device index. */
export const byDevice = (f: Omit<CallFilter, "limit">) =>
  f.productId !== undefined || f.deviceName !== undefined || f.productIdPrefix !== undefined || f.deviceNamePrefix !== undefined;

/** The WHERE clause of a filter (and of one block of the device index). */
export function whereOf(f: Omit<CallFilter, "limit">, bucket?: number, dialect: Dialect = "sqlite"): { where: string; args: (string | number)[] } {
  const like = dialect === "postgres" ? "ILIKE" : "LIKE";
  const conds: [string, string | number | undefined][] = [
    [`${BUCKET_OF} = ?`, bucket],
    ["product_id = ?", f.productId],
    ["device_name = ?", f.deviceName],
    // SQLite's LIKE (PostgreSQL's ILIKE) is case-insensitive for ASCII, which is all an id may hold (topics.ts).
    [`product_id ${like} ? ESCAPE '\\'`, likePrefix(f.productIdPrefix)],
    [`device_name ${like} ? ESCAPE '\\'`, likePrefix(f.deviceNamePrefix)],
    // Successes are most rows and skip the status index (one B-tree less per write); they are
    // found by walking process_id. SQLite uses a partial index only when the query repeats its
    // WHERE term verbatim.
    [f.status === "success" ? "status = ?" : `status = ? AND ${NOT_SUCCESS}`, f.status],
    ["batch_id = ?", f.batchId],
    ["command_id = ?", f.commandId],
    ["caller_kind = ?", f.callerKind],
    ["caller_id = ?", f.callerId],
    ["process_id < ?", f.before],
    ["started_at >= ?", f.from],
    ["started_at < ?", f.to],
  ];
  const used = conds.filter((c): c is [string, string | number] => c[1] !== undefined);
  return { where: used.length ? "WHERE " + used.map((c) => c[0]).join(" AND ") : "", args: used.map((c) => c[1]) };
}

/** A call from its row and the chunks of events appended to it, in order; each chunk's events go at their place in the trace. */
export function fromRow(r: Row, chunks: readonly ChunkRow[]): CallRecord {
  let events = JSON.parse(r.events) as StoredEvent[];
  if (chunks.length > 0) {
    for (const c of chunks) (JSON.parse(c.events) as StoredEvent[]).forEach((e, i) => (events[c.first + i] = e));
    // A chunk committed after an earlier write failed may have left a gap, until the retry fills it.
    events = events.filter((e) => e !== undefined);
  }
  const c: CallRecord = {
    processId: String(r.process_id),
    messageId: r.process_id,
    productId: r.product_id,
    deviceName: r.device_name,
    source: r.source as CallSource,
    status: r.status as CallStatus,
    request: r.request,
    timeoutMs: r.timeout_ms,
    startedAt: r.started_at,
    events,
  };
  if (r.reply) c.reply = r.reply;
  if (r.ended_at !== null) c.endedAt = r.ended_at;
  if (r.rtt_ms !== null) c.rttMs = r.rtt_ms;
  if (r.batch_id !== null) c.batchId = r.batch_id;
  if (r.command_id !== null) c.commandId = r.command_id;
  if (r.caller_kind !== null) c.caller = { kind: r.caller_kind, id: r.caller_id ?? "", name: r.caller_name ?? "" };
  return c;
}
