import { DomainError } from "../core/errors";
import { PROCESS_ID_MAX, PROCESS_ID_MIN, formatProcessId } from "../../rrpc/process-id";
import type { CallRecord } from "../core/call";
import { log } from "../core/log";
import type { CallStore } from "./call-store";
import { BUCKET_OF, NOT_SUCCESS } from "./migrations";
import type { PgSql, Param } from "./sql";
import {
  STATS_RECENT,
  storeUnavailable,
  deviceStatsOf,
  type DeviceStatsRow,
  bucketOf,
  byDevice,
  fromRow,
  listQuery,
  whereOf,
  type CallFilter,
  type ChunkRow,
  type DeviceStats,
  type Row,
} from "./store";
import { NOTHING_WRITTEN, type Written } from "./writer";

/**
 * processIds reserved per round trip: as many as the hub's default RRPC_MAX_IN_FLIGHT, so that
 * a burst of calls in one turn of the event loop finds them reserved. The next block is reserved once less than half of the
 * current one is left. A block that ran out before the next arrived (a burst of calls in one
 * turn of the event loop) doubles the size of the next ones, up to MAX_ID_BLOCK.
 */
const ID_BLOCK = 10_000;
const MAX_ID_BLOCK = 160_000;
/** While the store cannot write, it tries again this often. */
const RETRY_WRITE_MS = 1000;
/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement. */
const ROWS_PER_STATEMENT = 1000;

const CALL_COLUMNS =
  "process_id, product_id, device_name, source, status, request, reply, timeout_ms, started_at, ended_at, rtt_ms, events, batch_id, command_id, caller_kind, caller_id, caller_name, hub_id";

/** A flush in progress: the calls it writes and who waits for it. */
type Flush = { calls: Map<number, CallRecord>; done: Promise<void> };

/**
 * Calls in PostgreSQL (DATABASE_URL). The same contract as the SQLite store (store.ts), for
 * hubs that share one database (docs/storage.md):
 * - processIds come from blocks reserved with one atomic UPDATE … RETURNING on table meta, so
 *   hubs on one database never hand out the same id; a block is reserved before the current one
 *   runs out, so `allocateProcessId` stays synchronous.
 * - saves are group-committed: everything saved while one transaction is in flight goes in the
 *   next, as multi-row statements. Pending calls are written at once (not after a delay as with
 *   SQLite) so that other hubs see calls in flight.
 * - a call's row, then its outcome and its new events as chunks, as the SQLite writer does
 *   (writer.ts): a trace is never rewritten.
 */
export class PgCallStore implements CallStore {
  private readonly dirty = new Map<number, CallRecord>();
  private readonly waiters = new Map<number, (() => void)[]>();
  /** What the database holds of each call, as far as this process knows. */
  private readonly committed = new WeakMap<CallRecord, Written>();
  private current: Flush | null = null;
  private scheduled = false;
  private block = { next: 0, end: 0 };
  private blockSize = ID_BLOCK;
  private spare: { next: number; end: number } | null = null;
  private reserving: Promise<void> | null = null;
  private failure: string | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    readonly sql: PgSql,
    readonly hubId: string | null,
  ) {}

  /** Opens the store on a migrated database (open.ts: openPostgres) and reserves its first block of processIds. */
  static async open(sql: PgSql, opts: { hubId?: string | null } = {}): Promise<PgCallStore> {
    const s = new PgCallStore(sql, opts.hubId ?? null);
    // The first reservation on a database starts past every stored call.
    await sql.run(
      `INSERT INTO meta (key, value) SELECT 'reserved_process_id', greatest(?::bigint, coalesce(max(process_id), 0) + 1) FROM calls ON CONFLICT (key) DO NOTHING`,
      [PROCESS_ID_MIN],
    );
    s.block = await s.reserve();
    return s;
  }

  get unavailable(): string | null {
    return this.failure;
  }

  private async reserve(): Promise<{ next: number; end: number }> {
    const size = this.blockSize;
    const row = await this.sql.get<{ value: number }>(`UPDATE meta SET value = value + ? WHERE key = 'reserved_process_id' RETURNING value`, [size]);
    if (!row) throw new Error("the processId reservation is missing from table meta");
    return { next: row.value - size, end: Math.min(row.value, PROCESS_ID_MAX + 1) };
  }

  private refill(): void {
    if (this.spare || this.reserving || this.closed) return;
    this.reserving = this.reserve()
      .then((b) => void (this.spare = b))
      .catch((err: Error) => log.warn("reserving processIds failed", { error: err.message }))
      .finally(() => (this.reserving = null));
  }

  /** Settles once the reservation of the next block under way (if any) has ended. */
  async reserved(): Promise<void> {
    await this.reserving;
  }

  allocateProcessId(): { processId: string; messageId: number } {
    if (this.failure) throw storeUnavailable(this.failure);
    if (this.block.next >= this.block.end && this.spare) {
      this.block = this.spare;
      this.spare = null;
    }
    if (this.block.next >= this.block.end) {
      this.blockSize = Math.min(this.blockSize * 2, MAX_ID_BLOCK);
      this.refill();
      if (this.block.next > PROCESS_ID_MAX) throw new Error("processId space exhausted");
      throw new DomainError("store_unavailable", "no processIds reserved yet (the database is slow to answer); no call was made");
    }
    if (this.block.end - this.block.next <= this.blockSize / 2) this.refill();
    const messageId = this.block.next++;
    return { processId: formatProcessId(messageId), messageId };
  }

  save(call: CallRecord): void {
    if (this.closed) return;
    this.dirty.set(call.messageId, call);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.current || this.failure) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.startFlush();
    });
  }

  written(call: CallRecord): Promise<void> {
    if (this.closed || this.failure) return Promise.resolve();
    if (this.dirty.has(call.messageId)) {
      return new Promise((resolve) => {
        const list = this.waiters.get(call.messageId);
        if (list) list.push(resolve);
        else this.waiters.set(call.messageId, [resolve]);
      });
    }
    if (this.current?.calls.has(call.messageId)) return this.current.done;
    return Promise.resolve();
  }

  /** Writes what is dirty in one transaction, unless a flush is in progress (the next one takes it). */
  private startFlush(): Promise<void> {
    if (this.current) return this.current.done;
    if (this.dirty.size === 0 || this.failure) return Promise.resolve();
    const calls = new Map(this.dirty);
    this.dirty.clear();
    const waiters: (() => void)[] = [];
    for (const id of calls.keys()) {
      const w = this.waiters.get(id);
      if (w) waiters.push(...w);
      this.waiters.delete(id);
    }
    const done = this.write([...calls.values()]).then(
      () => {
        this.current = null;
        for (const w of waiters) w();
        if (this.dirty.size > 0) this.schedule();
      },
      (err: Error) => {
        this.current = null;
        // Kept for the retry, unless saved again since.
        for (const [id, c] of calls) if (!this.dirty.has(id)) this.dirty.set(id, c);
        this.fail(err.message);
        for (const w of waiters) w();
      },
    );
    this.current = { calls, done };
    return done;
  }

  /** One transaction: new rows, changed outcomes, new events. `committed` changes only once it commits. */
  private async write(calls: CallRecord[]): Promise<void> {
    const rows: Param[][] = [];
    const outcomes: Param[][] = [];
    const chunks: Param[][] = [];
    const after: [CallRecord, Written][] = [];
    for (const c of calls) {
      const from = this.committed.get(c) ?? NOTHING_WRITTEN;
      const w: Written = { status: c.status, events: c.events.length };
      if (from.status === null) {
        rows.push([
          c.messageId,
          c.productId,
          c.deviceName,
          c.source,
          c.status,
          c.request,
          c.reply ?? null,
          c.timeoutMs,
          c.startedAt,
          c.endedAt ?? null,
          c.rttMs ?? null,
          JSON.stringify(c.events),
          c.batchId ?? null,
          c.commandId ?? null,
          c.caller?.kind ?? null,
          c.caller?.id ?? null,
          c.caller?.name ?? null,
          this.hubId,
        ]);
      } else {
        if (from.status !== c.status) outcomes.push([c.messageId, c.status, c.reply ?? null, c.endedAt ?? null, c.rttMs ?? null]);
        // Placed by index in the trace, so writing a chunk again changes nothing.
        if (c.events.length > from.events) chunks.push([c.messageId, from.events, JSON.stringify(c.events.slice(from.events))]);
      }
      after.push([c, w]);
    }
    await this.sql.tx(async (q) => {
      for (const part of parts(rows)) {
        await q.run(
          `INSERT INTO calls (${CALL_COLUMNS}) VALUES ${values(part)}
           ON CONFLICT (process_id) DO UPDATE SET status = excluded.status, reply = excluded.reply, ended_at = excluded.ended_at, rtt_ms = excluded.rtt_ms, events = excluded.events`,
          part.flat(),
        );
      }
      for (const part of parts(outcomes)) {
        await q.run(
          `UPDATE calls SET status = v.status, reply = v.reply, ended_at = v.ended_at, rtt_ms = v.rtt_ms
           FROM (VALUES ${part.map(() => "(?::bigint, ?::text, ?::bytea, ?::float8, ?::float8)").join(", ")}) AS v (id, status, reply, ended_at, rtt_ms)
           WHERE calls.process_id = v.id`,
          part.flat(),
        );
      }
      for (const part of parts(chunks)) {
        await q.run(
          `INSERT INTO call_events (process_id, first, events) VALUES ${values(part)} ON CONFLICT (process_id, first) DO UPDATE SET events = excluded.events`,
          part.flat(),
        );
      }
    });
    for (const [c, w] of after) this.committed.set(c, w);
  }

  private fail(why: string): void {
    if (this.closed) return;
    if (!this.failure) log.error("the store cannot write: new calls are refused until it can", { error: why });
    this.failure = why;
    for (const list of this.waiters.values()) for (const w of list) w();
    this.waiters.clear();
    this.retryTimer ??= setInterval(() => void this.retry(), RETRY_WRITE_MS);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    if (this.closed || this.current) return;
    const kept = this.dirty.size;
    this.failure = null;
    await this.startFlush();
    if (this.failure) return;
    log.info("the store can write again", { callsWritten: kept });
    clearInterval(this.retryTimer!);
    this.retryTimer = null;
  }

  async flush(): Promise<void> {
    while (!this.closed && !this.failure && (this.current || this.dirty.size > 0)) await this.startFlush();
  }

  flushNow(): boolean {
    void this.flush();
    return this.dirty.size === 0 && !this.current;
  }

  async get(messageId: number): Promise<CallRecord | null> {
    const latest = this.dirty.get(messageId) ?? this.current?.calls.get(messageId);
    if (latest) return latest;
    const row = await this.sql.get<Row>(`SELECT * FROM calls WHERE process_id = ?`, [messageId]);
    if (!row) return null;
    const call = fromRow(row, await this.sql.all<ChunkRow>(`SELECT * FROM call_events WHERE process_id = ? ORDER BY first`, [messageId]));
    this.committed.set(call, { status: call.status, events: call.events.length });
    return call;
  }

  async list(f: CallFilter): Promise<CallRecord[]> {
    return (await this.page(f)).calls;
  }

  async page(f: CallFilter, maxBytes = Infinity): Promise<{ calls: CallRecord[]; more: boolean }> {
    await this.flush();
    let limit = f.limit;
    let cut = false;
    if (maxBytes !== Infinity) {
      const sizes = await this.select<{ size: number }>(f, "octet_length(request) + coalesce(octet_length(reply), 0) AS size");
      let total = 0;
      for (limit = 0; limit < sizes.length; limit++) {
        total += sizes[limit]!.size;
        if (limit > 0 && total > maxBytes) {
          cut = true;
          break;
        }
      }
    }
    const rows = limit === 0 ? [] : await this.select<Row>({ ...f, limit }, "*");
    return { calls: await this.withChunks(rows), more: cut || rows.length === f.limit };
  }

  private async bounds(): Promise<{ min: number | null; max: number | null }> {
    return (await this.sql.get<{ min: number | null; max: number | null }>(`SELECT min(process_id) AS min, max(process_id) AS max FROM calls`))!;
  }

  /** As the SQLite store: calls of named devices are read block by block of the device index, newest first. */
  private async select<R>(f: CallFilter, columns: string): Promise<R[]> {
    if (!byDevice(f)) {
      const { sql, args } = listQuery(f, undefined, columns, "postgres");
      return this.sql.all<R>(sql, args);
    }
    const { min, max } = await this.bounds();
    if (min === null || max === null) return [];
    const newest = Math.min(f.before ?? max + 1, max + 1) - 1;
    const out: R[] = [];
    for (let b = bucketOf(newest); b >= bucketOf(min) && out.length < f.limit; b--) {
      const { sql, args } = listQuery({ ...f, limit: f.limit - out.length }, b, columns, "postgres");
      out.push(...(await this.sql.all<R>(sql, args)));
    }
    return out;
  }

  async count(f: Omit<CallFilter, "limit" | "before">): Promise<number> {
    await this.flush();
    if (!byDevice(f)) {
      const { where, args } = whereOf(f, undefined, "postgres");
      return (await this.sql.get<{ n: number }>(`SELECT count(*) AS n FROM calls ${where}`, args))!.n;
    }
    const { min, max } = await this.bounds();
    if (min === null || max === null) return 0;
    let n = 0;
    for (let b = bucketOf(max); b >= bucketOf(min); b--) {
      const { where, args } = whereOf(f, b, "postgres");
      n += (await this.sql.get<{ n: number }>(`SELECT count(*) AS n FROM calls ${where}`, args))!.n;
    }
    return n;
  }

  private async withChunks(rows: Row[]): Promise<CallRecord[]> {
    if (rows.length === 0) return [];
    const chunks = new Map<number, ChunkRow[]>();
    const found = await this.sql.all<ChunkRow>(`SELECT * FROM call_events WHERE process_id = ANY(?::bigint[]) ORDER BY process_id, first`, [
      rows.map((r) => r.process_id),
    ]);
    for (const c of found) {
      const list = chunks.get(c.process_id);
      if (list) list.push(c);
      else chunks.set(c.process_id, [c]);
    }
    return rows.map((r) => fromRow(r, chunks.get(r.process_id) ?? []));
  }

  async deviceStats(): Promise<DeviceStats[]> {
    await this.flush();
    const rows = await this.sql.all<DeviceStatsRow>(
      `SELECT product_id, device_name, count(*) AS calls, sum(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS successes,
              min(process_id) AS first_id, max(process_id) AS last_id
       FROM calls GROUP BY product_id, device_name`,
    );
    const out: DeviceStats[] = [];
    for (const r of rows) {
      const l = (await this.sql.get<{ status: string; started_at: number }>(`SELECT status, started_at FROM calls WHERE process_id = ?`, [
        r.last_id,
      ]))!;
      const recentRtts: number[] = [];
      for (let b = bucketOf(r.last_id); b >= bucketOf(r.first_id) && recentRtts.length < STATS_RECENT; b--) {
        const rtts = await this.sql.all<{ rtt_ms: number }>(
          `SELECT rtt_ms FROM calls WHERE ${BUCKET_OF} = ? AND product_id = ? AND device_name = ? AND status = 'success' ORDER BY process_id DESC LIMIT ?`,
          [b, r.product_id, r.device_name, STATS_RECENT - recentRtts.length],
        );
        recentRtts.push(...rtts.map((x) => x.rtt_ms));
      }
      out.push(deviceStatsOf(r, l, recentRtts));
    }
    return out;
  }

  async prune(keep: number): Promise<number> {
    await this.flush();
    const cut = await this.sql.get<{ process_id: number }>(`SELECT process_id FROM calls ORDER BY process_id DESC LIMIT 1 OFFSET ?`, [keep]);
    if (!cut) return 0;
    return this.sql.tx(async (q) => {
      const n = (await q.run(`DELETE FROM calls WHERE process_id <= ? AND status <> 'pending'`, [cut.process_id])).changes;
      await q.run(
        `DELETE FROM call_events WHERE process_id <= ? AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.process_id = call_events.process_id)`,
        [cut.process_id],
      );
      return n;
    });
  }

  interruptPending(now: number): Promise<number> {
    return this.interrupt(this.hubId, now, "hub restarted");
  }

  interruptPendingOf(hubId: string, at: number): Promise<number> {
    return this.interrupt(hubId, at, "hub stopped");
  }

  /** Pending calls of one hub (null: calls written without a hub id) ended `interrupted`, with the event appended to their trace. */
  private async interrupt(hubId: string | null, now: number, reason: string): Promise<number> {
    await this.flush();
    const rows = await this.sql.all<Row>(
      `SELECT * FROM calls WHERE status = 'pending' AND ${NOT_SUCCESS} AND hub_id IS NOT DISTINCT FROM ? ORDER BY process_id`,
      [hubId],
    );
    // Our own calls still in memory are settled by the hub, not here.
    const calls = (await this.withChunks(rows)).filter((c) => !this.dirty.has(c.messageId) && !this.current?.calls.has(c.messageId));
    for (const c of calls) {
      this.committed.set(c, { status: c.status, events: c.events.length });
      c.status = "interrupted";
      c.endedAt = Math.max(now, c.startedAt);
      c.events.push({ type: "interrupted", t: c.endedAt - c.startedAt, detail: { reason } });
      this.dirty.set(c.messageId, c);
    }
    await this.flush();
    return calls.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    if (this.failure) {
      await this.retry();
      if (this.failure) log.error("the store is closing without writing some calls", { calls: this.dirty.size, error: this.failure });
    }
    this.closed = true;
    if (this.retryTimer) clearInterval(this.retryTimer);
    await this.reserving;
    await this.sql.close();
  }
}

function parts<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) out.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

const values = (rows: Param[][]) => rows.map((r) => `(${r.map(() => "?").join(", ")})`).join(", ");
