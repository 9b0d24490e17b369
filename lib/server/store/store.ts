import type Database from "better-sqlite3";
import { DomainError } from "../core/errors";
import { PROCESS_ID_MAX, PROCESS_ID_MIN, formatProcessId } from "../../rrpc/process-id";
import type { CallStatus } from "../../rrpc/types";
import { clock, type CallRecord, type CallSource, type StoredEvent } from "../core/call";
import { StoreWriter, packCalls, unpackRows } from "./writer";
import { BUCKET_OF, DEVICE_BUCKET, NOT_SUCCESS } from "./migrations";
import { openDatabase } from "./database";

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
const PENDING_WRITE_AFTER_MS = 250;

export type CallFilter = {
  productId?: string;
  deviceName?: string;
  status?: CallStatus;
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

const STATS_RECENT = 100;

type Row = {
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
};

const UPSERT_SQL = `
  INSERT INTO calls (process_id, product_id, device_name, source, status, request, reply, timeout_ms, started_at, ended_at, rtt_ms, events)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (process_id) DO UPDATE SET
    status = excluded.status, reply = excluded.reply, ended_at = excluded.ended_at,
    rtt_ms = excluded.rtt_ms, events = excluded.events`;

/**
 * SQLite file holding every call and its trace. Writes are batched: the hot path only marks a
 * call dirty; one transaction per batch writes each dirty call's latest state once, on a worker
 * thread (StoreWriter). Reads flush first and wait for the worker's commits, so they always see
 * what the hub has done.
 */
export class Store {
  /** The SQLite handle, for modules that keep their own tables in the same file (registry, keys). */
  readonly db: Database.Database;
  private readonly dirty = new Map<number, CallRecord>();
  private timer: NodeJS.Timeout | null = null;
  private nextId: number;
  private reservedUntil: number;
  private readonly stmts;
  private readonly writeLocal: (calls: CallRecord[]) => void;
  private closed = false;
  /** The writer thread (null for ":memory:", which another connection cannot open). */
  readonly writer: StoreWriter | null = null;
  /** Calls posted to the writer and not yet known to be committed: their latest state, by id. */
  private readonly inflight = new Map<number, { call: CallRecord; seq: number }>();
  private readonly inflightBatches: { seq: number; ids: number[] }[] = [];

  constructor(
    readonly path: string,
    opts: { checkpointEveryMs?: number } = {},
  ) {
    this.db = openDatabase(path);
    this.stmts = {
      upsert: this.db.prepare(UPSERT_SQL),
      get: this.db.prepare<[number], Row>(`SELECT * FROM calls WHERE process_id = ?`),
      getMeta: this.db.prepare<[string], { value: number }>(`SELECT value FROM meta WHERE key = ?`),
      setMeta: this.db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      maxId: this.db.prepare<[], { m: number | null }>(`SELECT max(process_id) AS m FROM calls`),
      minId: this.db.prepare<[], { m: number | null }>(`SELECT min(process_id) AS m FROM calls`),
    };
    const upsert = this.stmts.upsert;
    this.writeLocal = this.db.transaction((calls: CallRecord[]) => {
      const { rows, bytes } = packCalls(calls);
      for (const params of unpackRows(rows, bytes)) upsert.run(params);
    });
    if (path !== ":memory:") {
      this.db.pragma("wal_autocheckpoint = 0");
      this.writer = new StoreWriter(path, UPSERT_SQL, () => this.writerGone(), opts.checkpointEveryMs);
    }
    const reserved = this.stmts.getMeta.get("reserved_process_id")?.value ?? 0;
    const maxId = this.stmts.maxId.get()?.m ?? 0;
    this.nextId = Math.max(PROCESS_ID_MIN, reserved, maxId + 1);
    this.reservedUntil = this.nextId;
  }

  /**
   * The next processId: strictly increasing, also across restarts and crashes, because a block
   * is reserved on disk (synchronously) before any id of it is handed out.
   */
  allocateProcessId(): { processId: string; messageId: number } {
    if (this.nextId >= this.reservedUntil) {
      if (this.nextId > PROCESS_ID_MAX) throw new Error("processId space exhausted");
      const until = Math.min(this.nextId + ID_BLOCK, PROCESS_ID_MAX + 1);
      // Written first, then used: ids past a reservation that failed are never handed out.
      try {
        this.stmts.setMeta.run("reserved_process_id", until);
      } catch (err) {
        throw new DomainError("store_unavailable", `the store cannot write (${(err as Error).message}); no call was made`);
      }
      this.reservedUntil = until;
    }
    const messageId = this.nextId++;
    return { processId: formatProcessId(messageId), messageId };
  }

  /** Records the call's current state; written with the next batch. */
  save(call: CallRecord): void {
    if (this.closed) return;
    this.dirty.set(call.messageId, call);
    this.timer ??= setTimeout(() => this.flushBatch(), FLUSH_MS);
  }

  /** The timed batch: every ended call, and pending calls old enough to be worth writing. */
  private flushBatch(): void {
    this.timer = null;
    if (this.closed) return;
    const youngSince = clock.epoch(clock.now()) - PENDING_WRITE_AFTER_MS;
    const batch: CallRecord[] = [];
    for (const [id, c] of this.dirty) {
      if (c.status === "pending" && c.startedAt > youngSince) continue;
      batch.push(c);
      this.dirty.delete(id);
    }
    if (batch.length > 0) this.writeBatch(batch);
    this.forgetCommitted();
    if (this.dirty.size > 0) this.timer = setTimeout(() => this.flushBatch(), FLUSH_MS);
  }

  /** Writes everything not yet written and waits until it is committed (before reads, at stop and exit). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.closed) return;
    if (this.dirty.size > 0) {
      const batch = [...this.dirty.values()];
      this.dirty.clear();
      this.writeBatch(batch);
    }
    if (this.inflight.size > 0 && this.writer?.waitForCommits()) this.forgetCommitted();
  }

  /** To the writer thread if it runs, else on this connection. */
  private writeBatch(calls: CallRecord[]): void {
    if (!this.writer?.post(packCalls(calls), calls.length)) return this.writeLocal(calls);
    const seq = this.writer.postedSeq;
    for (const c of calls) this.inflight.set(c.messageId, { call: c, seq });
    this.inflightBatches.push({ seq, ids: calls.map((c) => c.messageId) });
  }

  private forgetCommitted(): void {
    if (!this.writer) return;
    const committed = this.writer.committedSeq;
    while (this.inflightBatches.length > 0 && this.inflightBatches[0]!.seq <= committed) {
      const { seq, ids } = this.inflightBatches.shift()!;
      for (const id of ids) if (this.inflight.get(id)?.seq === seq) this.inflight.delete(id);
    }
  }

  /** The writer thread failed: what it may not have committed is written here, and so is everything after. */
  private writerGone(): void {
    if (this.closed) return;
    this.db.pragma("wal_autocheckpoint = 1000");
    const calls = [...this.inflight.values()].map((x) => x.call);
    this.inflight.clear();
    this.inflightBatches.length = 0;
    this.writeLocal(calls);
  }

  /** One call: the state not yet written if there is one, else the stored row. */
  get(messageId: number): CallRecord | null {
    if (messageId >= this.nextId) return null;
    const latest = this.dirty.get(messageId) ?? this.inflight.get(messageId)?.call;
    if (latest) return latest;
    const row = this.stmts.get.get(messageId);
    return row ? fromRow(row) : null;
  }

  list(f: CallFilter): CallRecord[] {
    this.flush();
    if (f.productId === undefined && f.deviceName === undefined) {
      const { sql, args } = listQuery(f);
      return this.db
        .prepare<(string | number)[], Row>(sql)
        .all(...args)
        .map(fromRow);
    }
    const oldest = this.stmts.minId.get()?.m;
    if (oldest === null || oldest === undefined) return [];
    const stmt = this.db.prepare<(string | number)[], Row>(listQuery(f, 0).sql);
    const newest = Math.min(f.before ?? this.nextId, this.nextId) - 1;
    return newestBlocksFirst(newest, oldest, f.limit, (b, limit) => stmt.all(...listQuery({ ...f, limit }, b).args)).map(fromRow);
  }

  /** Per device: call count, success count, last call, and the round trips of recent successes. */
  deviceStats(): DeviceStats[] {
    this.flush();
    const rows = this.db
      .prepare<[], { product_id: string; device_name: string; calls: number; successes: number; first_id: number; last_id: number }>(
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
      return {
        productId: r.product_id,
        deviceName: r.device_name,
        calls: r.calls,
        successes: r.successes,
        lastProcessId: String(r.last_id),
        lastStatus: l.status as CallStatus,
        lastAt: l.started_at,
        recentRtts,
      };
    });
  }

  /** Deletes the oldest ended calls beyond the newest `keep`; returns how many went. */
  prune(keep: number): number {
    this.flush();
    const cut = this.db.prepare<[number], { process_id: number }>(`SELECT process_id FROM calls ORDER BY process_id DESC LIMIT 1 OFFSET ?`).get(keep);
    if (!cut) return 0;
    return this.db.prepare(`DELETE FROM calls WHERE process_id <= ? AND status != 'pending'`).run(cut.process_id).changes;
  }

  /**
   * Calls left pending by a process that stopped without settling them (a crash, a kill):
   * ended as `interrupted`, with the event appended to their trace. Run once at start.
   */
  interruptPending(now: number): number {
    this.flush();
    const rows = this.db.prepare<[], Row>(`SELECT * FROM calls WHERE status = 'pending' AND ${NOT_SUCCESS}`).all();
    const calls = rows.map(fromRow);
    for (const c of calls) {
      c.status = "interrupted";
      c.endedAt = Math.max(now, c.startedAt);
      c.events.push({ type: "interrupted", t: c.endedAt - c.startedAt, detail: { reason: "hub restarted" } });
    }
    this.writeLocal(calls);
    return calls.length;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
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
const bucketOf = (processId: number) => Math.floor(processId / DEVICE_BUCKET);

/** Up to `limit` rows from the blocks holding processIds newest..oldest, newest block first; `fetch` answers one block, newest first. */
function newestBlocksFirst<T>(newest: number, oldest: number, limit: number, fetch: (bucket: number, limit: number) => T[]): T[] {
  const out: T[] = [];
  for (let b = bucketOf(newest); b >= bucketOf(oldest) && out.length < limit; b--) out.push(...fetch(b, limit - out.length));
  return out;
}

/** The SELECT behind Store.list, optionally within one block of the device index (exported so tests can check its query plan). */
export function listQuery(f: CallFilter, bucket?: number): { sql: string; args: (string | number)[] } {
  const conds: [string, string | number | undefined][] = [
    [`${BUCKET_OF} = ?`, bucket],
    ["product_id = ?", f.productId],
    ["device_name = ?", f.deviceName],
    // Successes are most rows and skip the status index (one B-tree less per write); they are
    // found by walking process_id. SQLite uses a partial index only when the query repeats its
    // WHERE term verbatim.
    [f.status === "success" ? "status = ?" : `status = ? AND ${NOT_SUCCESS}`, f.status],
    ["process_id < ?", f.before],
    ["started_at >= ?", f.from],
    ["started_at < ?", f.to],
  ];
  const used = conds.filter((c): c is [string, string | number] => c[1] !== undefined);
  const where = used.map((c) => c[0]);
  const sql = `SELECT * FROM calls ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY process_id DESC LIMIT ?`;
  return { sql, args: [...used.map((c) => c[1]), f.limit] };
}

function fromRow(r: Row): CallRecord {
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
    events: JSON.parse(r.events) as StoredEvent[],
  };
  if (r.reply) c.reply = r.reply;
  if (r.ended_at !== null) c.endedAt = r.ended_at;
  if (r.rtt_ms !== null) c.rttMs = r.rtt_ms;
  return c;
}
