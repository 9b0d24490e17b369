import { log } from "../core/log";
import type { Query } from "./query";

/** Whose call a processId belongs to, as a hub sees it. */
export type IdOwner = "mine" | "other" | "none";

/** Starts of other hubs' ranges read per refresh, newest first; older ones stay cached. */
const REFRESH_ROWS = 1000;
/** Rows of hub_blocks kept (one per block of ids a hub started using): enough to name the owner of any call kept. */
const BLOCKS_KEPT = 100_000;
/** At most one refresh this often: misses come in bursts (a peer's new block). */
const REFRESH_MIN_MS = 1000;
/** This hub's own ranges kept in memory. */
const OWN_RANGES_KEPT = 100_000;

/**
 * Which hub handed out a processId, answered synchronously on the reply path (docs/scale-out.md,
 * "Replies"). Every hub hears every reply on a shared broker; only the hub that made the call
 * handles it. A hub knows its own ids exactly (the ranges of ids it allocated, in memory); other
 * hubs' ids come from `hub_blocks` (the first id of each range, with its hub: a range ends where
 * the next one starts), cached and refreshed on a miss.
 */
export class IdOwnership {
  /** [first, last] ids this hub allocated, ascending. */
  private readonly mine: [number, number][] = [];
  /** Starts of ranges of every hub, ascending. */
  private starts: { first: number; hubId: string }[] = [];
  private refreshing: Promise<void> | null = null;
  private lastRefresh = -Infinity;

  constructor(private readonly opts: { hubId: string; query: Query; now?: () => number }) {}

  private now(): number {
    return this.opts.now?.() ?? performance.now();
  }

  /** Called with each id this hub hands out; a new range is recorded in the database (not awaited). */
  allocated(id: number): void {
    const last = this.mine.at(-1);
    if (last && id === last[1] + 1) {
      last[1] = id;
      return;
    }
    if (!last || id > last[1]) this.mine.push([id, id]);
    else this.mine.splice(this.indexAfter(this.mine, id), 0, [id, id]);
    if (this.mine.length > OWN_RANGES_KEPT) this.mine.shift();
    this.opts
      .query(`INSERT INTO hub_blocks (first_id, hub_id) VALUES ($1, $2) ON CONFLICT (first_id) DO NOTHING`, [id, this.opts.hubId])
      .catch((err: Error) => log.warn("cannot record a block of processIds", { first: id, error: err.message }));
  }

  /** Index of the first range starting after `id`. */
  private indexAfter(ranges: readonly [number, number][], id: number): number {
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid]![0] <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  isMine(id: number): boolean {
    const i = this.indexAfter(this.mine, id) - 1;
    return i >= 0 && id <= this.mine[i]![1];
  }

  /**
   * "mine": this hub allocated it; "other": it lies in a range another hub started; "none": no
   * hub's (a stray). A miss starts a refresh, so a peer's newest range may be "none" for a moment:
   * either way the reply is not this hub's to record.
   */
  owner(id: number): IdOwner {
    if (this.isMine(id)) return "mine";
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]!.first <= id) lo = mid + 1;
      else hi = mid;
    }
    const range = this.starts[lo - 1];
    const last = this.starts.at(-1);
    // The newest range, this hub's (it is not), or none: a peer may have started one since.
    if (!range || range.hubId === this.opts.hubId || range === last) void this.refreshSoon();
    return range && range.hubId !== this.opts.hubId ? "other" : "none";
  }

  /** A refresh after a miss: at most once per REFRESH_MIN_MS. */
  private refreshSoon(): Promise<void> {
    if (this.refreshing || this.now() - this.lastRefresh < REFRESH_MIN_MS) return this.refreshing ?? Promise.resolve();
    return this.refresh();
  }

  /** Reads the newest range starts (after any read under way), keeping older ones. */
  refresh(): Promise<void> {
    this.lastRefresh = this.now();
    const run: Promise<void> = (this.refreshing ?? Promise.resolve())
      .then(() =>
        this.opts.query<{ first_id: string; hub_id: string }>(`SELECT first_id, hub_id FROM hub_blocks ORDER BY first_id DESC LIMIT ${REFRESH_ROWS}`),
      )
      .then((rows) => {
        const all = new Map(this.starts.map((s) => [s.first, s.hubId]));
        for (const r of rows) all.set(Number(r.first_id), r.hub_id);
        this.starts = [...all].map(([first, hubId]) => ({ first, hubId })).sort((a, b) => a.first - b.first);
        if (this.starts.length > BLOCKS_KEPT) this.starts.splice(0, this.starts.length - BLOCKS_KEPT);
      })
      .catch((err: Error) => log.warn("cannot read the blocks of processIds", { error: err.message }))
      .finally(() => {
        if (this.refreshing === run) this.refreshing = null;
      });
    this.refreshing = run;
    return run;
  }

  /** Forgets the oldest rows of hub_blocks beyond BLOCKS_KEPT (run now and then by one hub). */
  async prune(): Promise<void> {
    await this.opts.query(
      `DELETE FROM hub_blocks WHERE first_id < (SELECT first_id FROM hub_blocks ORDER BY first_id DESC OFFSET ${BLOCKS_KEPT} LIMIT 1)`,
    );
  }
}
