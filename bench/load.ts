/** Closed-loop load: N callers, each starting its next call as soon as the previous one ends. */
import { cpuOverWindow, type CpuPids, type CpuWindow } from "./cpu";
import { Samples, type LatencySummary } from "./stats";

/**
 * The JIT warm-up's calls are made this many at a time at least: one at a time, a requester's
 * 3,000 warm-up calls took 2–3 s of every quick run's target, and a round trip at a time exercises
 * fewer paths than the cells do.
 */
export const WARMUP_IN_FLIGHT = 100;

export type LoadSpec = {
  /** Calls in flight. */
  concurrency: number;
  /** Run this long before measuring (JIT, connection set-up, queues filling). */
  warmupMs: number;
  /** Then measure this long. */
  durationMs: number;
  /** Processes (role → pid) whose CPU time is sampled at the start and at the end of the measured window (bench/cpu.ts). */
  cpuPids?: CpuPids;
};

export type LoadResult = {
  /** Calls that ended inside the measured window (successes and failures). */
  calls: number;
  /** Successful calls per second inside the window. */
  callsPerSecond: number;
  latency: LatencySummary;
  failures: number;
  /** Failure kind (call status, HTTP status, "lost") → count, inside the window. */
  failureKinds: Record<string, number>;
  /** With `spec.cpuPids`: the CPU time of those processes over the measured window and the successful calls in it. */
  cpu?: CpuWindow;
};

/**
 * Runs `call` from `spec.concurrency` loops for warmupMs + durationMs. A call resolves to null
 * on success or to a short failure kind. Latency and throughput count calls that end inside the
 * measured window; the loops then finish the calls they have in flight. With `spec.cpuPids`,
 * those processes' CPU time is sampled when the window opens and when it closes.
 */
export async function closedLoop(spec: LoadSpec, call: (seq: number) => Promise<string | null>): Promise<LoadResult> {
  const samples = new Samples();
  const failureKinds: Record<string, number> = {};
  let failures = 0;
  let seq = 0;
  let successes = 0;
  const begin = performance.now();
  const from = begin + spec.warmupMs;
  const until = from + spec.durationMs;
  const cpu = spec.cpuPids && cpuOverWindow(spec.cpuPids, spec, () => successes);

  const loop = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const failure = await call(seq++);
      const t1 = performance.now();
      if (failure === null) successes++;
      if (t1 < from || t1 > until) continue;
      if (failure === null) samples.add(t1 - t0);
      else {
        failures++;
        failureKinds[failure] = (failureKinds[failure] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  const latency = samples.summary();
  return {
    calls: latency.count + failures,
    callsPerSecond: latency.count / (spec.durationMs / 1000),
    latency,
    failures,
    failureKinds,
    ...(cpu ? { cpu: await cpu } : {}),
  };
}

/** Loops that start at once and each do a share of `calls` (a fixed count, e.g. for JIT warm-up). */
export async function runCount(concurrency: number, calls: number, call: (seq: number) => Promise<string | null>): Promise<void> {
  let seq = 0;
  const loop = async () => {
    while (seq < calls) await call(seq++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, loop));
}
