/**
 * GET /api/stats and /api/stats/devices over a real SQLite file and a real PostgreSQL database:
 * calls written through the calls store at known start times and round trips come back in the right buckets, with exact
 * nearest-rank percentiles; the query schema refuses what it must.
 */
import { describe, expect, it } from "vitest";
import type { CallStore } from "./call-store";
import { callStats, deviceStatsRanking } from "./stats";
import { storeBackends } from "../testing/backends";
import type { CallRecord } from "../core/call";
import { CALL_STATUSES, type CallStatus } from "../../rrpc/types";
import { deviceStatsQuerySchema, MAX_STATS_BUCKETS, statsQuerySchema } from "../../rrpc/schemas";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const MIN = 60_000;

function write(store: CallStore, startedAt: number, status: CallStatus, rttMs?: number, device = "dev1", productId = "PROD000001"): CallRecord {
  const { processId, messageId } = store.allocateProcessId();
  const call: CallRecord = {
    processId,
    messageId,
    productId,
    deviceName: device,
    source: "api",
    status,
    request: Buffer.from("closed"),
    timeoutMs: 4000,
    startedAt,
    events: [{ type: "requested", t: 0 }],
  };
  if (status !== "pending") {
    call.endedAt = startedAt + (rttMs ?? 4000);
    call.events.push({ type: status, t: rttMs ?? 4000 });
  }
  if (status === "success") {
    call.reply = Buffer.from("ok");
    call.rttMs = rttMs;
  }
  store.save(call);
  return call;
}

/** Nearest rank, computed the plain way: the reference the SQL must match. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.ceil((p / 100) * sorted.length) - 1]! * 1000) / 1000;
}

const zeros = Object.fromEntries(CALL_STATUSES.map((s) => [s, 0]));
const query = (q: Record<string, string | number>, now = T0 + 10 * MIN) => statsQuerySchema(now).parse(q);

describe.each(storeBackends())("call statistics from the store on $name", (backend) => {
  const open = async () => backend.openCalls(await backend.location());

  it("counts calls per bucket and status, with exact p50/p95/p99 of successful round trips; the range is [from, to)", async () => {
    const store = await open();
    // Bucket 0 (T0 … T0+1 min): 100 successes of 1 … 100 ms (shuffled), 3 timeouts, 1 offline.
    const rtts = Array.from({ length: 100 }, (_, i) => i + 1);
    for (let i = 0; i < rtts.length; i++) write(store, T0 + ((i * 7919) % 60_000), "success", rtts[(i * 37) % 100]!);
    for (let i = 0; i < 3; i++) write(store, T0 + 1000 * i, "timeout");
    write(store, T0 + 59_999.5, "offline");
    // Bucket 1: nothing. Bucket 2: one success of 7.25 ms, 2 busy, 1 still pending.
    write(store, T0 + 2 * MIN, "success", 7.25);
    write(store, T0 + 2 * MIN + 5, "busy");
    write(store, T0 + 3 * MIN - 0.5, "busy");
    write(store, T0 + 2 * MIN + 30_000, "pending");
    // Outside the range: just before it, and at its (exclusive) end.
    write(store, T0 - 0.001, "success", 1000);
    write(store, T0 + 3 * MIN, "timeout");
    // Another device, in bucket 0.
    write(store, T0 + 10, "success", 500, "other");
    write(store, T0 + 20, "interrupted", undefined, "other");

    const all = await callStats(store, query({ from: T0, to: T0 + 3 * MIN, bucket: 60 }));
    expect(all.from).toBe(T0);
    expect(all.to).toBe(T0 + 3 * MIN);
    expect(all.bucket).toBe(60);
    expect(all.buckets).toEqual([
      // p50 of 1…100 and 500: rank ⌈50.5⌉ = 51 → 51 ms; p95 rank ⌈95.95⌉ = 96; p99 rank ⌈99.99⌉ = 100 → 100 ms.
      { ...zeros, t: T0, calls: 106, success: 101, timeout: 3, offline: 1, interrupted: 1, p50: 51, p95: 96, p99: 100 },
      { ...zeros, t: T0 + MIN, calls: 0, p50: null, p95: null, p99: null },
      { ...zeros, t: T0 + 2 * MIN, calls: 4, success: 1, busy: 2, pending: 1, p50: 7.25, p95: 7.25, p99: 7.25 },
    ]);

    const one = await callStats(
      store,
      query({ productId: "PROD000001", deviceName: "dev1", from: new Date(T0).toISOString(), to: T0 + 3 * MIN, bucket: 60 }),
    );
    expect(one.buckets[0]).toEqual({ ...zeros, t: T0, calls: 104, success: 100, timeout: 3, offline: 1, p50: 50, p95: 95, p99: 99 });
    expect(one.buckets[2]).toMatchObject({ calls: 4, p50: 7.25 });

    // A bucket longer than the range: one bucket holding everything from `from` on.
    const whole = await callStats(store, query({ deviceName: "dev1", from: T0, to: T0 + 3 * MIN, bucket: 3600 }));
    expect(whole.buckets).toHaveLength(1);
    expect(whole.buckets[0]).toMatchObject({ t: T0, calls: 108, success: 101, timeout: 3, busy: 2, pending: 1, offline: 1 });
    await store.close();
  });

  it("matches a plain sort-and-rank on irregular round trips, bucket by bucket", async () => {
    const store = await open();
    // mulberry32: the same "random" calls on every run.
    let seed = 42;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const byBucket: number[][] = Array.from({ length: 10 }, () => []);
    for (let i = 0; i < 2000; i++) {
      const at = T0 + rand() * 10 * 5000;
      const rtt = Math.round(rand() ** 3 * 300_000) / 1000;
      const b = Math.floor((at - T0) / 5000);
      // A tenth of the buckets' calls fail: their round trips count for nothing.
      if (rand() < 0.1) write(store, at, "timeout");
      else {
        write(store, at, "success", rtt);
        byBucket[b]!.push(rtt);
      }
    }
    const s = await callStats(store, query({ from: T0, to: T0 + 50_000, bucket: 5 }));
    expect(s.buckets).toHaveLength(10);
    s.buckets.forEach((b, i) => {
      expect(b.t).toBe(T0 + i * 5000);
      expect(b.success).toBe(byBucket[i]!.length);
      expect([b.p50, b.p95, b.p99]).toEqual([50, 95, 99].map((p) => nearestRank(byBucket[i]!, p)));
    });
    expect(s.buckets.reduce((n, b) => n + b.calls, 0)).toBe(2000);
    await store.close();
  });

  it("ranks devices by p95 and by failures over the range", async () => {
    const store = await open();
    // slow: 20 successes of 100…2000 ms, 1 timeout. flaky: 10 fast successes, 5 timeouts, 3 offline.
    // fast: 50 successes of 1 ms. ghost: only offline. busyOne: only pending (neither success nor failure).
    for (let i = 1; i <= 20; i++) write(store, T0 + i, "success", i * 100, "slow");
    write(store, T0 + 30, "timeout", undefined, "slow");
    for (let i = 0; i < 10; i++) write(store, T0 + i, "success", 2 + i / 10, "flaky");
    for (let i = 0; i < 5; i++) write(store, T0 + 40 + i, "timeout", undefined, "flaky");
    for (let i = 0; i < 3; i++) write(store, T0 + 50 + i, "offline", undefined, "flaky");
    for (let i = 0; i < 50; i++) write(store, T0 + i, "success", 1, "fast");
    write(store, T0 + 5, "offline", undefined, "ghost");
    write(store, T0 + 5, "pending", undefined, "busyOne");
    // Outside the range.
    for (let i = 0; i < 10; i++) write(store, T0 + MIN + i, "timeout", undefined, "fast");

    const r = await deviceStatsRanking(store, deviceStatsQuerySchema(T0 + 10 * MIN).parse({ from: T0, to: T0 + MIN, limit: "2" }));
    const P = "PROD000001";
    expect(r.slowest).toEqual([
      { productId: P, deviceName: "slow", calls: 21, success: 20, failures: 1, failureRate: 1 / 21, p50: 1000, p95: 1900, p99: 2000 },
      { productId: P, deviceName: "flaky", calls: 18, success: 10, failures: 8, failureRate: 8 / 18, p50: 2.4, p95: 2.9, p99: 2.9 },
    ]);
    expect(r.failing.map((d) => [d.deviceName, d.failures])).toEqual([
      ["flaky", 8],
      ["ghost", 1],
    ]);
    expect(r.failing[1]).toMatchObject({ calls: 1, success: 0, failureRate: 1, p50: null, p95: null, p99: null });
    await store.close();
  });
});

describe("the stats query", () => {
  const issues = (q: Record<string, string>, now = T0) => {
    const r = statsQuerySchema(now).safeParse(q);
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };

  it("defaults to the hour before now with a round bucket, and takes ISO or epoch ms", () => {
    expect(query({}, T0)).toEqual({ from: T0 - 60 * MIN, to: T0, bucketMs: 30_000, productId: undefined, deviceName: undefined });
    expect(query({ from: "2026-02-28T23:00:00Z", to: String(T0), bucket: "60" })).toMatchObject({ from: T0 - 60 * MIN, to: T0, bucketMs: MIN });
  });

  it(`refuses an empty or reversed range, a bucket that is not a whole number of seconds, and more than ${MAX_STATS_BUCKETS} buckets`, () => {
    expect(issues({ from: String(T0), to: String(T0) })).toEqual(["to"]);
    expect(issues({ from: String(T0 + 1) })).toEqual(["from"]);
    expect(issues({ bucket: "0" })).toEqual(["bucket"]);
    expect(issues({ bucket: "1.5" })).toEqual(["bucket"]);
    expect(issues({ bucket: "abc" })).toEqual(["bucket"]);
    expect(issues({ from: "yesterday" })).toEqual(["from"]);
    // 1,000 one-second buckets are fine; 1,001 are not.
    expect(issues({ from: String(T0 - 1_000_000), bucket: "1" })).toEqual([]);
    expect(issues({ from: String(T0 - 1_000_001), bucket: "1" })).toEqual(["bucket"]);
    expect(deviceStatsQuerySchema(T0).safeParse({ limit: "0" }).success).toBe(false);
    expect(deviceStatsQuerySchema(T0).safeParse({ limit: "101" }).success).toBe(false);
  });
});
