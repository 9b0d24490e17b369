import { describe, expect, it } from "vitest";
import { Throttle } from "./throttle";

describe("Throttle", () => {
  it("lets the first failures through, then doubles the wait per failure up to the cap; a success clears it", () => {
    let now = 0;
    const t = new Throttle(() => now, 3, 1000, 8000);
    const keys = ["user:admin", "address:10.0.0.1"];
    for (let i = 0; i < 3; i++) {
      expect(t.waitMs(keys)).toBe(0);
      t.fail(keys);
    }
    expect(t.waitMs(keys)).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.fail(keys);
      waits.push(t.waitMs(keys));
      now += waits.at(-1)!;
      expect(t.waitMs(keys)).toBe(0);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    t.succeed(keys);
    t.fail(keys);
    expect(t.waitMs(keys)).toBe(0);
  });

  it("waits for the slowest of the keys: another user from a throttled address waits too", () => {
    const now = 0;
    const t = new Throttle(() => now, 0, 1000, 60_000);
    t.fail(["user:a", "address:x"]);
    t.fail(["user:a", "address:x"]);
    expect(t.waitMs(["user:b", "address:x"])).toBe(2000);
    expect(t.waitMs(["user:b", "address:y"])).toBe(0);
  });

  it("keeps at most maxKeys keys", () => {
    const t = new Throttle(() => 0, 0, 1000, 60_000, 10);
    for (let i = 0; i < 100; i++) t.fail([`address:${i}`]);
    expect(t.waitMs(["address:0"])).toBe(0);
    expect(t.waitMs(["address:99"])).toBe(1000);
  });
});
