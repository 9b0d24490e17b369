/**
 * How late `timeout` fires when many calls time out at once (the devices are silent), and, as its
 * baseline in the same process and run, how late as many bare Node timers fire: what the machine's
 * scheduler allows at that moment (docs/benchmarks.md, "Timeout precision").
 */
import type { Hub } from "../lib/server/calls/hub";
import { summarize, type LatencySummary } from "./stats";

export type TimeoutRun = { productId: string; devices: string[]; calls: number; timeoutMs: number; rounds: number };

export type TimeoutResult = {
  calls: number;
  timeoutMs: number;
  /** Not `timeout` (should be 0). */
  otherOutcomes: number;
  /** The hub's own trace: last event `t` − timeoutMs. */
  byEvents: LatencySummary;
  /** The caller's wall clock: call() → promise resolved, − timeoutMs. */
  byWallClock: LatencySummary;
  /** The same number of bare setTimeout(timeoutMs) started in one tick, alternating with the calls' rounds: how late each ran. */
  floor: LatencySummary;
};

/** `n` timers of `ms` started in one tick; how late each ran (performance.now(), like the hub's clock). */
async function bareTimers(n: number, ms: number): Promise<number[]> {
  const late: number[] = [];
  await Promise.all(
    Array.from({ length: n }, () => {
      const due = performance.now() + ms;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          late.push(performance.now() - due);
          resolve();
        }, ms),
      );
    }),
  );
  return late;
}

/** `rounds` rounds of `calls` calls started in the same tick; the first round is a warm-up. */
export async function measureTimeouts(hub: Hub, r: TimeoutRun): Promise<TimeoutResult> {
  const payload = Buffer.from("are you there?");
  const byEvents: number[] = [];
  const byWall: number[] = [];
  const floor: number[] = [];
  let otherOutcomes = 0;
  for (let round = 0; round < r.rounds + 1; round++) {
    const measured = round > 0;
    const bare = await bareTimers(r.calls, r.timeoutMs);
    if (measured) floor.push(...bare);
    await Promise.all(
      Array.from({ length: r.calls }, async (_, i) => {
        const t0 = performance.now();
        const call = await hub.call({ productId: r.productId, deviceName: r.devices[i % r.devices.length]!, payload, timeoutMs: r.timeoutMs });
        const wall = performance.now() - t0;
        if (!measured) return;
        if (call.status !== "timeout") return void otherOutcomes++;
        byEvents.push(call.events.at(-1)!.t - r.timeoutMs);
        byWall.push(wall - r.timeoutMs);
      }),
    );
  }
  return {
    calls: byEvents.length,
    timeoutMs: r.timeoutMs,
    otherOutcomes,
    byEvents: summarize(byEvents),
    byWallClock: summarize(byWall),
    floor: summarize(floor),
  };
}
