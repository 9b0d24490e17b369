/**
 * Failed sign-ins slow down the next attempt, per key (a user name, an address): the first
 * FREE_FAILURES are free, then each failure doubles the wait, up to MAX_WAIT_MS. A success clears
 * the key. Keys that have waited their turn long enough are forgotten, so memory stays bounded
 * by recent failures.
 */
export class Throttle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly freeFailures = 3,
    private readonly baseWaitMs = 1000,
    private readonly maxWaitMs = 5 * 60_000,
    private readonly maxKeys = 100_000,
  ) {}

  /** How long the caller must still wait before trying any of these keys (0: go ahead). */
  waitMs(keys: readonly string[]): number {
    const t = this.now();
    return Math.max(0, ...keys.map((k) => (this.failures.get(k)?.until ?? 0) - t));
  }

  fail(keys: readonly string[]): void {
    const t = this.now();
    for (const k of keys) {
      const count = (this.failures.get(k)?.count ?? 0) + 1;
      const wait = count <= this.freeFailures ? 0 : Math.min(this.maxWaitMs, this.baseWaitMs * 2 ** (count - this.freeFailures - 1));
      this.failures.delete(k);
      this.failures.set(k, { count, until: t + wait });
    }
    this.forgetOld(t);
  }

  succeed(keys: readonly string[]): void {
    for (const k of keys) this.failures.delete(k);
  }

  /** Drops the oldest keys beyond maxKeys, and keys whose wait ended long ago (Map order is insertion order). */
  private forgetOld(t: number): void {
    for (const [k, v] of this.failures) {
      if (this.failures.size <= this.maxKeys && v.until + this.maxWaitMs > t) break;
      this.failures.delete(k);
    }
  }
}
