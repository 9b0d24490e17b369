import { randomBytes } from "node:crypto";
import { clock as systemClock, type Clock } from "../core/call";
import { log } from "../core/log";
import type { Query } from "./query";

/** How often a hub writes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/**
 * A hub whose heartbeat is older than this is dead: a peer ends its work. Its calls are ended
 * within LEASE_MS + HEARTBEAT_MS (+ the takeover's own time) of its last heartbeat, under the
 * issue's 30 s (docs/scale-out.md).
 */
export const LEASE_MS = 15_000;

export type MembershipOptions = {
  query: Query;
  /** This process's hub id (new and random per process when omitted: nothing to configure). */
  id?: string;
  clock?: Clock;
  heartbeatMs?: number;
  leaseMs?: number;
  /** Where this hub's API answers, shown to operators. */
  apiUrl?: string | null;
  /**
   * Ends a dead hub's work (its calls in flight, its running batches). Runs on exactly one live
   * hub per dead hub; runs again elsewhere if that hub dies before it finishes, so it must be
   * idempotent.
   */
  takeOver(deadHubId: string, at: number): Promise<void>;
  /** Runs after each heartbeat: state other hubs may have changed and this one keeps in memory is read again. */
  onBeat?(): Promise<void>;
  /**
   * A peer found this hub's heartbeat too old and took over its work: its calls in flight are
   * already ended in the database. The process should stop (docs/scale-out.md).
   */
  onFenced?(): void;
};

export type HubRow = { id: string; startedAt: number; heartbeatAt: number; apiUrl: string | null; claimedBy: string | null };

export const newHubId = (): string => randomBytes(8).toString("hex");

/**
 * This process's membership of the hubs sharing one database: a row in `hubs` (store migration 8)
 * whose heartbeat it renews, and the sweep that finds peers whose heartbeat is older than the
 * lease and takes over their work. A dead hub is claimed with one UPDATE (row locks: exactly one
 * claimer); the claim renews the row's heartbeat so that a claimer that dies mid-takeover leaves
 * it to be claimed again; the row is deleted once the takeover is done.
 */
export class Membership {
  readonly id: string;
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private timer: unknown = null;
  private running = false;
  private fenced = false;
  private tickInFlight: Promise<void> | null = null;
  /** Hubs this one took over, for logs and tests. */
  readonly tookOver: string[] = [];

  constructor(private readonly opts: MembershipOptions) {
    this.id = opts.id ?? newHubId();
    this.clock = opts.clock ?? systemClock;
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.leaseMs = opts.leaseMs ?? LEASE_MS;
    if (!(this.leaseMs > this.heartbeatMs)) throw new Error("the lease must be longer than the heartbeat period");
  }

  private now(): number {
    return Math.round(this.clock.epoch(this.clock.now()));
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  /** Registers this hub, then takes over hubs already dead (a whole cluster restarted after a crash). */
  async start(): Promise<void> {
    const at = this.now();
    await this.opts.query(`INSERT INTO hubs (id, started_at, heartbeat_at, api_url) VALUES ($1, $2, $2, $3)`, [
      this.id,
      at,
      this.opts.apiUrl ?? null,
    ]);
    this.running = true;
    this.schedule();
    await this.sweep();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.tickInFlight = this.tick().finally(() => {
        this.tickInFlight = null;
        this.schedule();
      });
    }, this.heartbeatMs);
  }

  /** One heartbeat and one sweep; a failure (database unreachable) is logged and retried next period. */
  async tick(): Promise<void> {
    try {
      if (await this.beat()) {
        await this.sweep();
        await this.opts.onBeat?.();
      }
    } catch (err) {
      log.warn("hub heartbeat failed; retrying", { hubId: this.id, error: (err as Error).message });
    }
  }

  /** Renews this hub's heartbeat; false (and onFenced) when a peer has claimed it. */
  async beat(): Promise<boolean> {
    if (this.fenced) return false;
    const rows = await this.opts.query(`UPDATE hubs SET heartbeat_at = $2 WHERE id = $1 AND claimed_by IS NULL RETURNING id`, [this.id, this.now()]);
    if (rows.length > 0) return true;
    this.fenced = true;
    this.running = false;
    log.error("this hub's heartbeat was too old: a peer ended its calls in flight", { hubId: this.id });
    this.opts.onFenced?.();
    return false;
  }

  /** Claims every peer whose heartbeat is older than the lease and takes over its work; the ids taken over. */
  async sweep(): Promise<string[]> {
    if (this.fenced) return [];
    const now = this.now();
    const claimed = await this.opts.query<{ id: string }>(
      `UPDATE hubs SET claimed_by = $1, heartbeat_at = $2
       WHERE id IN (SELECT id FROM hubs WHERE heartbeat_at < $3 AND id <> $1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [this.id, now, now - this.leaseMs],
    );
    const done: string[] = [];
    for (const { id } of claimed) {
      try {
        await this.opts.takeOver(id, now);
      } catch (err) {
        // The claim's heartbeat runs out and this hub, or another, claims it again.
        log.error("taking over a dead hub failed; it will be tried again", { hubId: this.id, deadHubId: id, error: (err as Error).message });
        continue;
      }
      await this.opts.query(`DELETE FROM hubs WHERE id = $1 AND claimed_by = $2`, [id, this.id]);
      this.tookOver.push(id);
      done.push(id);
      log.warn("took over a hub whose heartbeat stopped", { hubId: this.id, deadHubId: id });
    }
    return done;
  }

  /** The hubs registered now (live ones, and dead ones not yet taken over). */
  async hubs(): Promise<HubRow[]> {
    const rows = await this.opts.query<{ id: string; started_at: string; heartbeat_at: string; api_url: string | null; claimed_by: string | null }>(
      `SELECT id, started_at, heartbeat_at, api_url, claimed_by FROM hubs ORDER BY started_at, id`,
    );
    return rows.map((r) => ({
      id: r.id,
      startedAt: Number(r.started_at),
      heartbeatAt: Number(r.heartbeat_at),
      apiUrl: r.api_url,
      claimedBy: r.claimed_by,
    }));
  }

  /** Stops the heartbeat. `leave`: this hub ended its own work (a graceful stop), so its row goes too. */
  async stop(opts: { leave: boolean } = { leave: true }): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    await this.tickInFlight;
    if (opts.leave && !this.fenced) await this.opts.query(`DELETE FROM hubs WHERE id = $1`, [this.id]);
  }
}
