/** How late `timeout` fires when many calls time out at once (the devices are silent). */
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
};

/** `rounds` rounds of `calls` calls started in the same tick; the first round is a warm-up. */
export async function measureTimeouts(hub: Hub, r: TimeoutRun): Promise<TimeoutResult> {
  const payload = Buffer.from("are you there?");
  const byEvents: number[] = [];
  const byWall: number[] = [];
  let otherOutcomes = 0;
  for (let round = 0; round < r.rounds + 1; round++) {
    const measured = round > 0;
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
  return { calls: byEvents.length, timeoutMs: r.timeoutMs, otherOutcomes, byEvents: summarize(byEvents), byWallClock: summarize(byWall) };
}
