import { describe, expect, it } from "vitest";
import { cpuTicksOfStat, LOAD_GEN_ROLE, mergePids } from "./cpu";
import type { LoadResult } from "./load";
import { cellOf, median, ratiosOf, roundOf, roundSpreadOf, spread, withRatios, type Cell, type CellKey, type Round, type RowKind } from "./report";

const latency = { count: 1000, mean: 1, p50: 1, p95: 2, p99: 3, max: 4 };

function round(callsPerSecond: number, cpuUsPerCall: number | null, cpuByRole: Record<string, number> = {}, o: Partial<Round> = {}): Round {
  return {
    callsPerSecond,
    p50: 1,
    p95: 2,
    p99: 3,
    max: 4,
    calls: 1000,
    failures: 0,
    failureKinds: {},
    cpuUsPerCall,
    cpuByRole,
    loadGenCpuUsPerCall: null,
    ...o,
  };
}

const key = (kind: RowKind, concurrency = 100): CellKey => ({ broker: "embedded", kind, devices: 100, concurrency });

describe("median and spread", () => {
  it("takes the middle value, or the mean of the middle two", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
  it("gives the lowest and the highest", () => {
    expect(spread([3, 1, 2])).toEqual([1, 3]);
    expect(spread([])).toBeNull();
  });
});

describe("CPU samples", () => {
  it("reads utime + stime (fields 14, 15) even when the command has spaces and parentheses", () => {
    const stat = "4242 (node (my) bench) S 1 4242 4242 0 -1 4194304 97 0 0 0 150 25 3 4 20 0 11 0 1126358 3133440 362";
    expect(cpuTicksOfStat(stat)).toBe(175);
  });
  it("counts a process named twice once, under the roles joined", () => {
    expect(mergePids({ broker: 10 }, { hub: 10 }, { devices: 11 })).toEqual({ "broker+hub": 10, devices: 11 });
    expect(mergePids({ server: 5, broker: 0 }, { [LOAD_GEN_ROLE]: 6 })).toEqual({ server: 5, [LOAD_GEN_ROLE]: 6 });
  });
});

describe("roundOf", () => {
  const load = (cpu?: LoadResult["cpu"]): LoadResult => ({ calls: 1000, callsPerSecond: 1000, latency, failures: 0, failureKinds: {}, cpu });

  it("divides each process's CPU time by the successful calls of the window, the load generator apart", () => {
    const r = roundOf(load({ ms: 1000, calls: 500, us: { server: 100_000, devices: 50_000, [LOAD_GEN_ROLE]: 25_000 } }));
    expect(r.cpuByRole).toEqual({ server: 200, devices: 100 });
    expect(r.cpuUsPerCall).toBe(300);
    expect(r.loadGenCpuUsPerCall).toBe(50);
  });
  it("has no CPU figure without samples, without calls or when a process is gone", () => {
    expect(roundOf(load()).cpuUsPerCall).toBeNull();
    expect(roundOf(load({ ms: 1000, calls: 0, us: { hub: 10 } })).cpuUsPerCall).toBeNull();
    expect(roundOf(load({ ms: 1000, calls: 10, us: { hub: 10, broker: NaN } })).cpuUsPerCall).toBeNull();
  });
});

describe("cellOf", () => {
  it("reports the medians over the rounds with their spreads", () => {
    const c = cellOf(key("engine"), [
      round(900, 210, { broker: 100, hub: 110 }, { p50: 2, max: 9, failures: 1, failureKinds: { lost: 1 } }),
      round(1200, 190, { broker: 90, hub: 100 }, { p50: 1, failures: 2, failureKinds: { lost: 2 } }),
      round(1000, 200, { broker: 95, hub: 105 }, { p50: 3 }),
    ]);
    expect(c.callsPerSecond).toBe(1000);
    expect(c.callsPerSecondSpread).toEqual([900, 1200]);
    expect(c.rounds).toEqual([900, 1200, 1000]);
    expect(c.cpuUsPerCall).toBe(200);
    expect(c.cpuUsPerCallSpread).toEqual([190, 210]);
    expect(c.cpuRounds).toEqual([210, 190, 200]);
    expect(c.cpuByRole).toEqual({ broker: 95, hub: 105 });
    expect(c.p50).toBe(2);
    expect(c.max).toBe(9);
    expect(c.calls).toBe(3000);
    expect(c.failures).toBe(3);
    expect(c.failureKinds).toEqual({ lost: 3 });
  });
  it("leaves rounds without CPU figures out of the CPU median", () => {
    const c = cellOf(key("floor"), [round(1000, null), round(1100, 150)]);
    expect(c.cpuUsPerCall).toBe(150);
    expect(c.cpuUsPerCallSpread).toEqual([150, 150]);
    expect(c.cpuRounds).toEqual([null, 150]);
    expect(cellOf(key("floor"), [round(1000, null)]).cpuUsPerCall).toBeNull();
  });
});

describe("ratios", () => {
  const cells = (): Cell[] => [
    cellOf(key("floor", 1), [round(2000, 400), round(2200, 420)]),
    cellOf(key("engine", 1), [round(1500, 480), round(1700, 500)]),
    cellOf(key("floor", 100), [round(10_000, 100)]),
    cellOf(key("engine", 100), [round(9000, 125)]),
    cellOf(key("engine-early", 100), [round(9900, 100)]),
    cellOf(key("engine-colocated", 100), [round(9500, 110)]),
    cellOf(key("colocated-mqtt", 100), [round(8000, 132)]),
    cellOf(key("bare-http", 100), [round(4000, 300)]),
    cellOf(key("http", 100), [round(3000, 390)]),
  ];

  it("divides each cell's medians by its baseline's: calls/s and CPU µs per call", () => {
    const t = withRatios(cells());
    const engine1 = t.find((c) => c.kind === "engine" && c.concurrency === 1)!;
    expect(engine1.ratio).toBeCloseTo(1600 / 2100);
    expect(engine1.cpuRatio).toBeCloseTo(490 / 410);
    expect(t.find((c) => c.kind === "floor")!.cpuRatio).toBeUndefined();
    expect(t.find((c) => c.kind === "http")!.cpuRatio).toBeCloseTo(1.3);
  });
  it("summarises throughput by the lowest ratio and CPU by the highest", () => {
    const r = ratiosOf(withRatios(cells()));
    expect(r.engineVsFloor).toBeCloseTo(1600 / 2100);
    expect(r.engineCpuVsFloor).toBeCloseTo(1.25);
    expect(r.earlyCpuVsEngine).toEqual([0.8, 0.8]);
    expect(r.httpCpuVsBare).toBeCloseTo(1.3);
    expect(r.tencentCpuVsBare).toBeNull();
    expect(r.engineColocatedCpuVsFloor).toBeCloseTo(1.1);
    // colocated-mqtt is divided by engine-colocated, not by the floor: what the in-process transport saves.
    expect(r.colocatedMqttCpuVsInproc![0]).toBeCloseTo(1.2);
    expect(r.colocatedMqttCpuVsInproc![1]).toBeCloseTo(1.2);
  });
  it("gives no CPU ratio when the baseline has no CPU figure", () => {
    const t = withRatios([cellOf(key("floor"), [round(1000, null)]), cellOf(key("engine"), [round(900, 120)])]);
    expect(t[1]!.ratio).toBeCloseTo(0.9);
    expect(t[1]!.cpuRatio).toBeUndefined();
  });
  it("measures how much the rounds disagree, over the cells measured more than once", () => {
    const s = roundSpreadOf(cells())!;
    expect(s.cells).toBe(2);
    expect(s.callsPerSecond).toBeCloseTo((200 / 2100 + 200 / 1600) / 2);
    expect(s.cpuUsPerCall).toBeCloseTo((20 / 410 + 20 / 490) / 2);
    expect(roundSpreadOf([cellOf(key("floor"), [round(1, 1)])])).toBeNull();
  });
});
