import type { Clock } from "../core/call";

/** A deadline held by Deadlines; `index` is its place in the heap, -1 once it left. */
export type DeadlineEntry<T> = { readonly item: T; readonly deadline: number; index: number; readonly seq: number };

/**
 * The deadlines of the calls in flight, with one timer for the earliest instead of one per call.
 * When it fires, every entry whose deadline has passed leaves in one pass and `onExpired` gets
 * them, in deadline order (then the order they were added), with the one time read for the pass:
 * 1,000 calls timing out together are all ended at that time, however long the work that
 * follows for each (docs/benchmarks.md, "Timeout precision"). Nothing expires before its
 * deadline: a timer that fires early only re-arms.
 *
 * A binary min-heap indexed by deadline: add and remove are O(log n); an entry removed before its
 * deadline (the call was answered) leaves at once, so the heap holds only the calls in flight.
 */
export class Deadlines<T> {
  private readonly heap: DeadlineEntry<T>[] = [];
  private timer: unknown = null;
  /** When the armed timer is due (clock time), Infinity when none is armed. */
  private timerAt = Infinity;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onExpired: (items: T[], now: number) => void,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  add(item: T, deadline: number): DeadlineEntry<T> {
    const e: DeadlineEntry<T> = { item, deadline, index: this.heap.length, seq: this.seq++ };
    this.heap.push(e);
    this.up(e.index);
    if (deadline < this.timerAt) this.arm();
    return e;
  }

  /** Takes an entry out before its deadline; nothing when it already left. */
  remove(e: DeadlineEntry<T>): void {
    const i = e.index;
    if (i < 0) return;
    e.index = -1;
    const last = this.heap.pop()!;
    if (last !== e) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    // The armed timer may now be early for the new earliest: it re-arms when it fires.
    if (this.heap.length === 0) this.disarm();
  }

  /** Forgets every entry and the timer. */
  clear(): void {
    for (const e of this.heap) e.index = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private arm(): void {
    this.disarm();
    const first = this.heap[0];
    if (!first) return;
    this.timerAt = first.deadline;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, Math.ceil(first.deadline - this.clock.now())));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock.now();
    const expired: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.deadline <= now) expired.push(this.pop().item);
    this.arm();
    if (expired.length > 0) this.onExpired(expired, now);
  }

  private pop(): DeadlineEntry<T> {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (last !== top) {
      this.heap[0] = last;
      last.index = 0;
      this.down(0);
    }
    top.index = -1;
    return top;
  }

  private less(a: DeadlineEntry<T>, b: DeadlineEntry<T>): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(e, h[parent]!)) break;
      h[i] = h[parent]!;
      h[i]!.index = i;
      i = parent;
    }
    h[i] = e;
    e.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(h[child + 1]!, h[child]!)) child++;
      if (!this.less(h[child]!, e)) break;
      h[i] = h[child]!;
      h[i]!.index = i;
      i = child;
    }
    h[i] = e;
    e.index = i;
  }
}
