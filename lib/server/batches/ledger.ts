import type Database from "better-sqlite3";
import { zeroCounts, type BatchCounts, type BatchJson, type BatchStatus, type BatchTarget, type BatchTargetStatus } from "../../rrpc/batch";
import { preview } from "../../rrpc/live";

export type BatchRow = {
  id: string;
  status: BatchStatus;
  total: number;
  payload: Buffer;
  command_id: string | null;
  params: string | null;
  timeout_ms: number;
  concurrency: number;
  rate_per_second: number | null;
  created_by: string | null;
  retry_of: string | null;
  started_at: number;
  ended_at: number | null;
  counts: string | null;
};

type TargetRow = { idx: number; product_id: string; device_name: string; status: BatchTargetStatus; process_id: number | null };

/** A target's outcome, waiting to be written: status, processId (or null), batch, index. */
export type TargetUpdate = [BatchTargetStatus, number | null, string, number];

/**
 * The batches and their targets in the store's SQLite file (store/migrations.ts, step 4): each
 * target is a row from the start, `pending` until its outcome is written, so a hub that dies
 * mid-batch leaves a ledger the next start can close (recover).
 */
export class BatchLedger {
  private readonly stmts;
  readonly insertBatch: (row: BatchRow, targets: readonly { productId: string; deviceName: string }[]) => void;
  readonly writeUpdates: (updates: readonly TargetUpdate[]) => void;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      insertBatch: db.prepare(
        `INSERT INTO batches (id, status, total, payload, command_id, params, timeout_ms, concurrency, rate_per_second, created_by, retry_of, started_at, ended_at, counts)
         VALUES (@id, @status, @total, @payload, @command_id, @params, @timeout_ms, @concurrency, @rate_per_second, @created_by, @retry_of, @started_at, @ended_at, @counts)`,
      ),
      insertTarget: db.prepare(`INSERT INTO batch_targets (batch_id, idx, product_id, device_name, status) VALUES (?, ?, ?, ?, 'pending')`),
      update: db.prepare(`UPDATE batch_targets SET status = ?, process_id = ? WHERE batch_id = ? AND idx = ?`),
      cancelFrom: db.prepare(`UPDATE batch_targets SET status = 'cancelled' WHERE batch_id = ? AND idx >= ? AND status = 'pending'`),
      end: db.prepare(`UPDATE batches SET status = ?, ended_at = ?, counts = ? WHERE id = ?`),
      targetsAfter: db.prepare<[string, number, number], TargetRow>(
        `SELECT idx, product_id, device_name, status, process_id FROM batch_targets WHERE batch_id = ? AND idx > ? ORDER BY idx LIMIT ?`,
      ),
      targetsAfterWith: db.prepare<[string, number, string, number], TargetRow>(
        `SELECT idx, product_id, device_name, status, process_id FROM batch_targets WHERE batch_id = ? AND idx > ? AND status = ? ORDER BY idx LIMIT ?`,
      ),
      get: db.prepare<[string], BatchRow>(`SELECT * FROM batches WHERE id = ?`),
      list: db.prepare<[number], BatchRow>(`SELECT * FROM batches ORDER BY started_at DESC LIMIT ?`),
      running: db.prepare<[], { id: string }>(`SELECT id FROM batches WHERE status = 'running'`),
      counts: db.prepare<[string], { status: BatchTargetStatus; n: number }>(
        `SELECT status, count(*) AS n FROM batch_targets WHERE batch_id = ? GROUP BY status`,
      ),
      unsent: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM batch_targets WHERE batch_id = ? AND process_id IS NULL AND status IN ('interrupted', 'cancelled')`,
      ),
      notSucceeded: db.prepare<[string], { product_id: string; device_name: string }>(
        `SELECT product_id, device_name FROM batch_targets WHERE batch_id = ? AND status <> 'success' ORDER BY idx`,
      ),
      // What a hub that died left pending: the outcome its call recorded, else interrupted.
      recoverTargets: db.prepare(
        `UPDATE batch_targets AS t SET
           status = coalesce(c.status, 'interrupted'), process_id = c.process_id
         FROM (SELECT t2.idx, c2.status, c2.process_id FROM batch_targets t2
               LEFT JOIN calls c2 ON c2.batch_id = t2.batch_id AND c2.product_id = t2.product_id
                 AND c2.device_name = t2.device_name AND c2.status <> 'pending'
               WHERE t2.batch_id = ? AND t2.status = 'pending') AS c
         WHERE t.batch_id = ? AND t.idx = c.idx`,
      ),
    };
    this.insertBatch = db.transaction((row: BatchRow, targets: readonly { productId: string; deviceName: string }[]) => {
      this.stmts.insertBatch.run(row);
      targets.forEach((t, i) => this.stmts.insertTarget.run(row.id, i, t.productId, t.deviceName));
    });
    this.writeUpdates = db.transaction((updates: readonly TargetUpdate[]) => {
      for (const u of updates) this.stmts.update.run(...u);
    });
  }

  get(id: string): BatchRow | undefined {
    return this.stmts.get.get(id);
  }

  list(limit: number): BatchRow[] {
    return this.stmts.list.all(limit);
  }

  cancelFrom(id: string, index: number): void {
    this.stmts.cancelFrom.run(id, index);
  }

  /** Counts by status and unsent targets, read from the targets' rows. */
  countsOf(id: string): { counts: BatchCounts; unsent: number } {
    const counts = zeroCounts();
    for (const r of this.stmts.counts.all(id)) counts[r.status] = r.n;
    return { counts, unsent: this.stmts.unsent.get(id)?.n ?? 0 };
  }

  end(id: string, status: BatchStatus, endedAt: number, counts: BatchCounts, unsent: number): void {
    this.stmts.end.run(status, endedAt, JSON.stringify({ ...counts, unsent }), id);
  }

  targets(id: string, q: { status?: BatchTargetStatus; after: number; limit: number }): BatchTarget[] {
    const rows = q.status ? this.stmts.targetsAfterWith.all(id, q.after, q.status, q.limit) : this.stmts.targetsAfter.all(id, q.after, q.limit);
    return rows.map(toTarget);
  }

  /** Every target, in order, read a page at a time. */
  *allTargets(id: string): Generator<BatchTarget> {
    for (let after = -1; ;) {
      const page = this.targets(id, { after, limit: 1000 });
      yield* page;
      if (page.length < 1000) return;
      after = page.at(-1)!.index;
    }
  }

  notSucceeded(id: string): { productId: string; deviceName: string }[] {
    return this.stmts.notSucceeded.all(id).map((r) => ({ productId: r.product_id, deviceName: r.device_name }));
  }

  /**
   * Closes the batches a previous run left running: each pending target takes the outcome its
   * call recorded (the store ended calls in flight `interrupted` first), or `interrupted` if it
   * was never sent; the batch ends `interrupted`.
   */
  recover(now: number): string[] {
    const ids = this.stmts.running.all().map((r) => r.id);
    for (const id of ids) this.close(id, now);
    return ids;
  }

  /** Ends one batch `interrupted` as recover() does; answers its final counts. */
  close(id: string, now: number): { counts: BatchCounts; unsent: number } {
    return this.db.transaction(() => {
      this.stmts.recoverTargets.run(id, id);
      const c = this.countsOf(id);
      this.end(id, "interrupted", now, c.counts, c.unsent);
      return c;
    })();
  }
}

function toTarget(r: TargetRow): BatchTarget {
  const t: BatchTarget = { index: r.idx, productId: r.product_id, deviceName: r.device_name, status: r.status };
  if (r.process_id !== null) t.processId = String(r.process_id);
  return t;
}

/** A batch as the API shows it, from its row (counts as recorded at its end, or as given while it runs). */
export function batchToJson(r: BatchRow, live?: { counts: BatchCounts; unsent: number }): BatchJson {
  const stored = r.counts ? (JSON.parse(r.counts) as BatchCounts & { unsent?: number }) : null;
  const { unsent: storedUnsent, ...storedCounts } = stored ?? { unsent: 0 };
  const j: BatchJson = {
    batchId: r.id,
    status: r.status,
    total: r.total,
    counts: live?.counts ?? { ...zeroCounts(), ...storedCounts },
    unsent: live?.unsent ?? storedUnsent ?? 0,
    startedAt: new Date(r.started_at).toISOString(),
    payload: preview(r.payload),
    timeoutMs: r.timeout_ms,
    concurrency: r.concurrency,
  };
  if (r.ended_at !== null) {
    j.endedAt = new Date(r.ended_at).toISOString();
    j.durationMs = Math.round((r.ended_at - r.started_at) * 1000) / 1000;
  }
  if (r.command_id !== null) j.commandId = r.command_id;
  if (r.params !== null) j.params = JSON.parse(r.params) as BatchJson["params"];
  if (r.rate_per_second !== null) j.ratePerSecond = r.rate_per_second;
  if (r.created_by !== null) j.createdBy = r.created_by;
  if (r.retry_of !== null) j.retryOf = r.retry_of;
  return j;
}
