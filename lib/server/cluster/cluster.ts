import { clock as systemClock, type Clock } from "../core/call";
import { log } from "../core/log";
import type { Sql } from "../store/sql";
import { HEARTBEAT_MS, LEASE_MS, Membership, newHubId } from "./membership";
import { IdOwnership } from "./ownership";
import type { Query } from "./query";

export { newHubId };

/** A cancel no hub took within this long is forgotten: its batch ended meanwhile. */
const CANCEL_KEPT_MS = 60_000;
/** hub_blocks is trimmed this often, by each hub (the statement is cheap and idempotent). */
const PRUNE_BLOCKS_EVERY_MS = 10 * 60_000;

export type ClusterOptions = {
  /** The shared PostgreSQL database (DATABASE_URL). */
  sql: Sql;
  /** This process's hub id, also the store's (calls.hub_id, batches.hub_id). */
  hubId: string;
  apiUrl?: string | null;
  /** A dead hub's calls still pending: ended `interrupted` (the store's interruptPendingOf); how many. */
  interruptCalls(hubId: string, at: number): Promise<number>;
  /** A dead hub's running batches: ended `interrupted`, unsent targets counted (the ledger's); how many. */
  interruptBatches(hubId: string, at: number): Promise<number>;
  /** A peer took over this hub's work (its heartbeat stopped for longer than the lease): the process must stop. */
  onFenced(): void;
  /** The batches this hub runs, and how it cancels one: a cancel asked through another hub arrives with a heartbeat. */
  runningBatches?(): string[];
  cancelBatch?(batchId: string): Promise<unknown>;
  /** Each heartbeat: what this hub keeps in memory of the shared state is read again (product limits). */
  onBeat?(): Promise<void>;
  leaseMs?: number;
  clock?: Clock;
};

export type Cluster = {
  hubId: string;
  membership: Membership;
  /** Whose processId a reply carries (calls/hub.ts `ownership`). */
  ownership: IdOwnership;
  /** Asks the hub running a batch to cancel it (it does within a heartbeat period). */
  requestCancel(batchId: string): Promise<void>;
  /** Joins: the tables if missing, this hub's row and heartbeat, then the takeover of hubs already dead. */
  start(): Promise<void>;
  /** Stops the heartbeat; `leave` once this hub has ended its own work (graceful stop). */
  stop(opts?: { leave: boolean }): Promise<void>;
};

/** The `$n` statements of cluster/ on the store's Sql (PostgreSQL: `$n` passes through its `?` translation untouched). */
export const sqlQuery =
  (sql: Sql): Query =>
  <T>(text: string, params: unknown[] = []) =>
    sql.all<T>(text, params as never);

/**
 * Several hub processes on one PostgreSQL database and one broker act as one hub
 * (docs/scale-out.md): each registers with a random id and a heartbeat, the survivors end a dead
 * hub's calls and batches, and each handles only the replies to its own calls. Made before the
 * hub (which takes `ownership`), started once the batches exist (a takeover ends batches).
 */
export function createCluster(opts: ClusterOptions): Cluster {
  if (opts.sql.dialect !== "postgres") throw new Error("several hubs share a PostgreSQL database (DATABASE_URL), not a SQLite file");
  const query = sqlQuery(opts.sql);
  const leaseMs = opts.leaseMs ?? LEASE_MS;
  const ownership = new IdOwnership({ hubId: opts.hubId, query });
  const membership = new Membership({
    id: opts.hubId,
    query,
    clock: opts.clock,
    leaseMs,
    heartbeatMs: Math.min(HEARTBEAT_MS, Math.floor(leaseMs / 3)),
    apiUrl: opts.apiUrl ?? null,
    onFenced: opts.onFenced,
    onBeat: async () => {
      await takeCancels();
      await opts.onBeat?.();
    },
    takeOver: async (dead, at) => {
      const calls = await opts.interruptCalls(dead, at);
      const batches = await opts.interruptBatches(dead, at);
      log.warn("ended the work of a hub whose heartbeat stopped", { deadHubId: dead, calls, batches });
    },
  });
  const now = () => Math.round((opts.clock ?? systemClock).epoch((opts.clock ?? systemClock).now()));
  const takeCancels = async () => {
    const running = opts.runningBatches?.() ?? [];
    await query(`DELETE FROM batch_cancels WHERE requested_at < $1`, [now() - CANCEL_KEPT_MS]);
    if (running.length === 0 || !opts.cancelBatch) return;
    const taken = await query<{ batch_id: string }>(`DELETE FROM batch_cancels WHERE batch_id = ANY($1::text[]) RETURNING batch_id`, [running]);
    for (const { batch_id } of taken) {
      await opts
        .cancelBatch(batch_id)
        .catch((err: Error) => log.warn("cancelling a batch asked through another hub failed", { batchId: batch_id, error: err.message }));
    }
  };
  let pruner: NodeJS.Timeout | null = null;
  return {
    hubId: opts.hubId,
    membership,
    ownership,
    async requestCancel(batchId) {
      await query(`INSERT INTO batch_cancels (batch_id, requested_at) VALUES ($1, $2) ON CONFLICT (batch_id) DO NOTHING`, [batchId, now()]);
    },
    async start() {
      await membership.start();
      await ownership.refresh();
      pruner = setInterval(() => void ownership.prune().catch(() => {}), PRUNE_BLOCKS_EVERY_MS);
      pruner.unref();
      log.info("hub joined the hubs sharing its database", { hubId: opts.hubId, leaseMs });
    },
    async stop(o = { leave: true }) {
      if (pruner) clearInterval(pruner);
      await membership.stop(o);
    },
  };
}
