import type { Sql } from "../store/sql";
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
 * The batches and their targets in the store's database (store/migrations.ts, step 4): each
 * target is a row from the start, `pending` until its outcome is written, so a hub that dies
 * mid-batch leaves a ledger the next start can close (recover).
 */
export class BatchLedger {
  constructor(
    private readonly sql: Sql,
    /** The hub process running the batches this ledger starts (batches.hub_id); null for a single hub. */
    private readonly hubId: string | null = null,
  ) {}

  async insertBatch(row: BatchRow, targets: readonly { productId: string; deviceName: string }[]): Promise<void> {
    await this.sql.tx(async (q) => {
      await q.run(
        `INSERT INTO batches (id, status, total, payload, command_id, params, timeout_ms, concurrency, rate_per_second, created_by, retry_of, started_at, ended_at, counts, hub_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row.id,
          row.status,
          row.total,
          row.payload,
          row.command_id,
          row.params,
          row.timeout_ms,
          row.concurrency,
          row.rate_per_second,
          row.created_by,
          row.retry_of,
          row.started_at,
          row.ended_at,
          row.counts,
          this.hubId,
        ],
      );
      for (let i = 0; i < targets.length; i += TARGETS_PER_INSERT) {
        const part = targets.slice(i, i + TARGETS_PER_INSERT);
        await q.run(
          `INSERT INTO batch_targets (batch_id, idx, product_id, device_name, status) VALUES ${part.map(() => "(?, ?, ?, ?, 'pending')").join(", ")}`,
          part.flatMap((t, j) => [row.id, i + j, t.productId, t.deviceName]),
        );
      }
    });
  }

  async writeUpdates(updates: readonly TargetUpdate[]): Promise<void> {
    await this.sql.tx(async (q) => {
      for (const u of updates) await q.run(`UPDATE batch_targets SET status = ?, process_id = ? WHERE batch_id = ? AND idx = ?`, u);
    });
  }

  get(id: string): Promise<BatchRow | undefined> {
    return this.sql.get<BatchRow>(`SELECT * FROM batches WHERE id = ?`, [id]);
  }

  list(limit: number): Promise<BatchRow[]> {
    return this.sql.all<BatchRow>(`SELECT * FROM batches ORDER BY started_at DESC LIMIT ?`, [limit]);
  }

  async cancelFrom(id: string, index: number): Promise<void> {
    await this.sql.run(`UPDATE batch_targets SET status = 'cancelled' WHERE batch_id = ? AND idx >= ? AND status = 'pending'`, [id, index]);
  }

  /** Counts by status and unsent targets, read from the targets' rows. */
  countsOf(id: string): Promise<{ counts: BatchCounts; unsent: number }> {
    return countsOf(this.sql, id);
  }

  async end(id: string, status: BatchStatus, endedAt: number, counts: BatchCounts, unsent: number): Promise<void> {
    await end(this.sql, id, status, endedAt, counts, unsent);
  }

  async targets(id: string, q: { status?: BatchTargetStatus; after: number; limit: number }): Promise<BatchTarget[]> {
    const cols = `SELECT idx, product_id, device_name, status, process_id FROM batch_targets`;
    const rows = q.status
      ? await this.sql.all<TargetRow>(`${cols} WHERE batch_id = ? AND idx > ? AND status = ? ORDER BY idx LIMIT ?`, [id, q.after, q.status, q.limit])
      : await this.sql.all<TargetRow>(`${cols} WHERE batch_id = ? AND idx > ? ORDER BY idx LIMIT ?`, [id, q.after, q.limit]);
    return rows.map(toTarget);
  }

  /** Every target, in order, read a page at a time. */
  async *allTargets(id: string): AsyncGenerator<BatchTarget> {
    for (let after = -1; ;) {
      const page = await this.targets(id, { after, limit: 1000 });
      yield* page;
      if (page.length < 1000) return;
      after = page.at(-1)!.index;
    }
  }

  async notSucceeded(id: string): Promise<{ productId: string; deviceName: string }[]> {
    const rows = await this.sql.all<{ product_id: string; device_name: string }>(
      `SELECT product_id, device_name FROM batch_targets WHERE batch_id = ? AND status <> 'success' ORDER BY idx`,
      [id],
    );
    return rows.map((r) => ({ productId: r.product_id, deviceName: r.device_name }));
  }

  /**
   * Closes the batches a previous run of this hub left running: each pending target takes the
   * outcome its call recorded (the store ended calls in flight `interrupted` first), or
   * `interrupted` if it was never sent; the batch ends `interrupted`.
   */
  recover(now: number): Promise<string[]> {
    return this.recoverOf(this.hubId, now);
  }

  /** As recover(), for the batches another hub process (one that stopped) left running. */
  async recoverOf(hubId: string | null, now: number): Promise<string[]> {
    const rows = await this.sql.all<{ id: string }>(`SELECT id FROM batches WHERE status = 'running' AND ${SAME_HUB}`, [hubId, hubId]);
    const ids = rows.map((r) => r.id);
    for (const id of ids) await this.close(id, now);
    return ids;
  }

  /** Ends one batch `interrupted` as recover() does; answers its final counts. */
  close(id: string, now: number): Promise<{ counts: BatchCounts; unsent: number }> {
    return this.sql.tx(async (q) => {
      // What a hub that died left pending: the outcome its call recorded, else interrupted.
      await q.run(
        `UPDATE batch_targets AS t SET
           status = coalesce(c.status, 'interrupted'), process_id = c.process_id
         FROM (SELECT t2.idx, c2.status, c2.process_id FROM batch_targets t2
               LEFT JOIN calls c2 ON c2.batch_id = t2.batch_id AND c2.product_id = t2.product_id
                 AND c2.device_name = t2.device_name AND c2.status <> 'pending'
               WHERE t2.batch_id = ? AND t2.status = 'pending') AS c
         WHERE t.batch_id = ? AND t.idx = c.idx`,
        [id, id],
      );
      const c = await countsOf(q, id);
      await end(q, id, "interrupted", now, c.counts, c.unsent);
      return c;
    });
  }
}

/** Rows per INSERT of targets (4 parameters each; SQLite takes 32,766 per statement, PostgreSQL 65,535). */
const TARGETS_PER_INSERT = 1000;
/** `hub_id = ?` that also matches NULL with NULL, in SQL both databases take (the CAST types the parameter for PostgreSQL). */
const SAME_HUB = `(hub_id = ? OR (hub_id IS NULL AND CAST(? AS TEXT) IS NULL))`;

async function countsOf(q: Sql, id: string): Promise<{ counts: BatchCounts; unsent: number }> {
  const counts = zeroCounts();
  for (const r of await q.all<{ status: BatchTargetStatus; n: number }>(
    `SELECT status, count(*) AS n FROM batch_targets WHERE batch_id = ? GROUP BY status`,
    [id],
  ))
    counts[r.status] = r.n;
  const unsent = await q.get<{ n: number }>(
    `SELECT count(*) AS n FROM batch_targets WHERE batch_id = ? AND process_id IS NULL AND status IN ('interrupted', 'cancelled')`,
    [id],
  );
  return { counts, unsent: unsent?.n ?? 0 };
}

async function end(q: Sql, id: string, status: BatchStatus, endedAt: number, counts: BatchCounts, unsent: number): Promise<void> {
  await q.run(`UPDATE batches SET status = ?, ended_at = ?, counts = ? WHERE id = ?`, [status, endedAt, JSON.stringify({ ...counts, unsent }), id]);
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
