/**
 * CPU time of the processes of a benchmark cell over its measured period, from Linux's
 * /proc/<pid>/stat (utime + stime: every thread of the process, in clock ticks). Works for any
 * pid the user can see: the bench's own children, Mosquitto, the production server.
 *
 * The load generator samples at the start and at the end of its measured window (closedLoop,
 * http-load) and counts the successful calls that ended in between: the cost per call is the
 * CPU time between the two samples ÷ those calls. With 10 ms ticks a sample is exact to ±1
 * tick per process, so the period must be long (a second or more), never a single call.
 */
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Processes of a cell by role ("broker", "hub", "devices", …) → pid. */
export type CpuPids = Record<string, number>;

/** CPU time (µs) of each role between two samples, the time between them and the successful calls that ended in between. */
export type CpuWindow = { ms: number; calls: number; us: Record<string, number> };

/** The role of the HTTP load generator (autocannon's process): reported apart, not part of the cell's cost. */
export const LOAD_GEN_ROLE = "autocannon";

let usPerTick: number | null = null;

/** Microseconds per clock tick (`getconf CLK_TCK`, read once; 100 on Linux almost everywhere). */
function microsPerTick(): number {
  if (usPerTick === null) {
    const hz = Number(execSync("getconf CLK_TCK", { encoding: "utf8" }).trim());
    usPerTick = 1e6 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
  }
  return usPerTick;
}

/**
 * utime + stime of a process, in µs, from the text of /proc/<pid>/stat: fields 14 and 15. The
 * second field (the command in parentheses) may contain spaces, so fields are counted after its
 * closing parenthesis (the 3rd field, the state, comes first there).
 */
export function cpuTicksOfStat(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/<pid>/stat: ${stat.slice(0, 200)}`);
  return utime + stime;
}

/** CPU time a process has used so far (user + system, µs); NaN when it is gone. */
export function cpuMicrosOf(pid: number): number {
  try {
    return cpuTicksOfStat(readFileSync(`/proc/${pid}/stat`, "utf8")) * microsPerTick();
  } catch {
    return NaN;
  }
}

type Sample = { t: number; calls: number; us: Record<string, number> };

function sample(pids: CpuPids, calls: number): Sample {
  const us: Record<string, number> = {};
  for (const [role, pid] of Object.entries(pids)) us[role] = cpuMicrosOf(pid);
  return { t: performance.now(), calls, us };
}

/**
 * Samples `pids` `warmupMs` from now and again `warmupMs + durationMs` from now (the measured
 * window of a load run started now), `successes()` being the running count of successful calls.
 * Resolves with the difference. A process gone meanwhile has NaN.
 */
export function cpuOverWindow(pids: CpuPids, spec: { warmupMs: number; durationMs: number }, successes: () => number): Promise<CpuWindow> {
  const window = cpuWindow(pids, successes);
  return new Promise((resolve) => {
    setTimeout(() => window.open(), spec.warmupMs);
    setTimeout(() => resolve(window.close()), spec.warmupMs + spec.durationMs);
  });
}

/** The same, the window opened and closed by the caller (when its load is ready, for instance). */
export function cpuWindow(pids: CpuPids, successes: () => number): { open(): void; close(): CpuWindow } {
  microsPerTick();
  let first: Sample | null = null;
  return {
    open: () => void (first = sample(pids, successes())),
    close() {
      const last = sample(pids, successes());
      const a = first ?? last;
      const us = Object.fromEntries(Object.entries(last.us).map(([role, v]) => [role, v - a.us[role]!]));
      return { ms: last.t - a.t, calls: last.calls - a.calls, us };
    },
  };
}

/**
 * Merges the processes of a cell given by several parts (shared broker, target, devices): a pid
 * named twice is counted once, under the roles joined ("broker" + "hub" → "broker+hub").
 */
export function mergePids(...parts: CpuPids[]): CpuPids {
  const roles = new Map<number, string[]>();
  for (const part of parts) {
    for (const [role, pid] of Object.entries(part)) {
      if (!pid) continue;
      const names = roles.get(pid) ?? [];
      if (!names.includes(role)) names.push(role);
      roles.set(pid, names);
    }
  }
  return Object.fromEntries([...roles].map(([pid, names]) => [names.join("+"), pid]));
}
