import { describe, expect, it } from "vitest";
import { ManualClock } from "../testing/clock";
import { Deadlines, type DeadlineEntry } from "./deadlines";

function setup() {
  const clock = new ManualClock();
  const passes: { items: string[]; now: number }[] = [];
  const d = new Deadlines<string>(clock, (items, now) => passes.push({ items, now }));
  return { clock, d, passes };
}

describe("Deadlines", () => {
  it("expires an entry at its deadline, never before, even when its timer fires early", () => {
    const { clock, d, passes } = setup();
    d.add("a", 300);
    clock.advance(299);
    clock.fireEarly();
    expect(passes).toEqual([]);
    expect(d.size).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1);
    expect(passes).toEqual([{ items: ["a"], now: 300 }]);
    expect(d.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("ends every entry due in one pass with one time, in deadline order then the order added, on one timer", () => {
    const { clock, d, passes } = setup();
    for (let i = 0; i < 999; i++) d.add(`c${i}`, 1000 + (i % 3) * 0.25);
    d.add("later", 1001.5);
    expect(clock.pendingTimers).toBe(1);
    const ofKind = (...ks: number[]) => ks.flatMap((k) => Array.from({ length: 333 }, (_, j) => `c${3 * j + k}`));
    // The timer for the earliest (1000) ends those due then; the next, at 1001, the rest in one pass.
    clock.advance(1000);
    expect(passes).toEqual([{ items: ofKind(0), now: 1000 }]);
    clock.advance(1);
    expect(passes[1]).toEqual({ items: ofKind(1, 2), now: 1001 });
    expect(d.size).toBe(1);
    clock.advance(1);
    expect(passes[2]).toEqual({ items: ["later"], now: 1002 });
    expect(clock.pendingTimers).toBe(0);
  });

  it("re-arms for an earlier deadline added later", () => {
    const { clock, d, passes } = setup();
    d.add("late", 500);
    d.add("early", 100);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    expect(passes).toEqual([{ items: ["early"], now: 100 }]);
    clock.advance(400);
    expect(passes[1]).toEqual({ items: ["late"], now: 500 });
  });

  it("never expires what was removed; no timer is left once nothing is due", () => {
    const { clock, d, passes } = setup();
    const a = d.add("a", 100);
    const b = d.add("b", 200);
    d.remove(a);
    d.remove(a);
    clock.advance(150);
    expect(passes).toEqual([]);
    d.remove(b);
    expect(d.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(passes).toEqual([]);
  });

  it("takes entries added while it hands out expired ones", () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const d: Deadlines<string> = new Deadlines<string>(clock, (items) => {
      seen.push(...items);
      if (items.includes("first")) d.add("second", clock.now() + 50);
    });
    d.add("first", 10);
    clock.advance(100);
    expect(seen).toEqual(["first", "second"]);
  });

  it("clear() forgets every entry and its timer", () => {
    const { clock, d, passes } = setup();
    const e = d.add("a", 10);
    d.add("b", 20);
    d.clear();
    d.remove(e);
    expect(d.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(100);
    expect(passes).toEqual([]);
  });

  it("matches a sorted list under random adds and removes", () => {
    const { clock, d, passes } = setup();
    // A seeded generator: the same sequence every run.
    let x = 12345;
    const rand = (n: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % n);
    const live = new Map<string, { e: DeadlineEntry<string>; deadline: number; seq: number }>();
    const expected: string[] = [];
    let seq = 0;
    for (let step = 0; step < 3000; step++) {
      const op = rand(10);
      if (op < 5) {
        const name = `i${step}`;
        const deadline = clock.now() + rand(200);
        live.set(name, { e: d.add(name, deadline), deadline, seq: seq++ });
      } else if (op < 8 && live.size > 0) {
        const keys = [...live.keys()];
        const name = keys[rand(keys.length)]!;
        d.remove(live.get(name)!.e);
        live.delete(name);
      } else {
        const now = clock.now() + rand(20);
        const due = [...live.entries()].filter(([, v]) => v.deadline <= now).sort((a, b) => a[1].deadline - b[1].deadline || a[1].seq - b[1].seq);
        for (const [k] of due) live.delete(k);
        expected.push(...due.map(([k]) => k));
        clock.advance(now - clock.now());
        expect(d.size).toBe(live.size);
        expect(clock.pendingTimers).toBeLessThanOrEqual(1);
      }
    }
    expect(passes.flatMap((p) => p.items)).toEqual(expected);
    for (const p of passes) expect(p.now).toBeGreaterThanOrEqual(0);
  });
});
