import type { Clock } from "../core/call";

/** A clock a test drives: time moves only by advance(); timers run when their time comes. */
export class ManualClock implements Clock {
  private t = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(private readonly origin = Date.parse("2026-01-01T00:00:00Z")) {}

  now(): number {
    return this.t;
  }
  epoch(mono: number): number {
    return this.origin + mono;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimer(timer: unknown): void {
    this.timers.delete(timer as number);
  }
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, running every timer that comes due, in time order. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = until;
  }

  /** Runs every timer now, as a timer that fires early would, without moving time. */
  fireEarly(): void {
    const all = [...this.timers.entries()];
    this.timers.clear();
    for (const [, x] of all) x.fn();
  }
}
