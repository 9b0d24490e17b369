import type { CallStats, DeviceCallStats, DeviceStatsRanking, StatsBucket } from "../../rrpc/api";
import type { DeviceStatsQuery, StatsQuery } from "../../rrpc/schemas";
import { CALL_STATUSES, type CallStatus } from "../../rrpc/types";
import type { CallStore } from "./call-store";

/**
 * Statistics over the stored calls, by the time they started: counts by status and exact
 * round-trip percentiles of successful calls. Percentiles are nearest-rank (the value at rank
 * ⌈p·n/100⌉ of the n sorted round trips, as on the Devices page); SQLite sorts, and only the three
 * rows at those ranks come back per group.
 */

const PERCENTILES = [50, 95, 99] as const;
/** ⌈p·n/100⌉ in integer arithmetic, for each percentile: the ranks a group's rows are kept at. */
const AT_RANKS = PERCENTILES.map((p) => `i = (${p} * n + 99) / 100`).join(" OR ");
const rankOf = (p: number, n: number) => Math.floor((p * n + 99) / 100);
const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

type Where = { sql: string; args: (string | number)[] };

function whereOf(q: { from: number; to: number; productId?: string; deviceName?: string }): Where {
  const conds: [string, string | number | undefined][] = [
    ["started_at >= ?", q.from],
    ["started_at < ?", q.to],
    ["product_id = ?", q.productId],
    ["device_name = ?", q.deviceName],
  ];
  const used = conds.filter((c): c is [string, string | number] => c[1] !== undefined);
  return { sql: used.map((c) => c[0]).join(" AND "), args: used.map((c) => c[1]) };
}

/** Nearest-rank percentiles of each group from the rows at their ranks (rank i of n rows). */
function percentilesOf<K>(rows: { key: K; i: number; n: number; rtt: number }[]): Map<K, Record<(typeof PERCENTILES)[number], number>> {
  const out = new Map<K, Record<(typeof PERCENTILES)[number], number>>();
  for (const r of rows) {
    let e = out.get(r.key);
    if (!e) out.set(r.key, (e = { 50: 0, 95: 0, 99: 0 }));
    // One row may be the rank of several percentiles (a group of one call is all three).
    for (const p of PERCENTILES) if (rankOf(p, r.n) === r.i) e[p] = round3(r.rtt);
  }
  return out;
}

const emptyCounts = (): Record<CallStatus, number> => Object.fromEntries(CALL_STATUSES.map((s) => [s, 0])) as Record<CallStatus, number>;

/** GET /api/stats: every bucket of [from, to), from `from` on, including empty ones. */
export async function callStats(store: CallStore, q: StatsQuery): Promise<CallStats> {
  await store.flush();
  const where = whereOf(q);
  // Times are never before `from`: truncating (SQLite's CAST) is flooring. PostgreSQL's CAST would round.
  const bucketOf = store.sql.dialect === "postgres" ? `floor((started_at - ?::float8) / ?::float8)::bigint` : `CAST((started_at - ?) / ? AS INTEGER)`;
  const counts = await store.sql.all<{ b: number; status: string; n: number }>(
    `SELECT ${bucketOf} AS b, status, count(*) AS n FROM calls WHERE ${where.sql} GROUP BY b, status`,
    [q.from, q.bucketMs, ...where.args],
  );
  const ranked = await store.sql.all<{ b: number; i: number; n: number; rtt: number }>(
    `WITH s AS (SELECT ${bucketOf} AS b, rtt_ms FROM calls WHERE ${where.sql} AND status = 'success' AND rtt_ms IS NOT NULL),
          r AS (SELECT b, rtt_ms AS rtt, row_number() OVER (PARTITION BY b ORDER BY rtt_ms) AS i, count(*) OVER (PARTITION BY b) AS n FROM s)
     SELECT b, i, n, rtt FROM r WHERE ${AT_RANKS}`,
    [q.from, q.bucketMs, ...where.args],
  );
  const percentiles = percentilesOf(ranked.map((r) => ({ key: r.b, ...r })));

  const buckets: StatsBucket[] = [];
  const count = Math.ceil((q.to - q.from) / q.bucketMs);
  for (let b = 0; b < count; b++) {
    const p = percentiles.get(b);
    buckets.push({ t: q.from + b * q.bucketMs, calls: 0, ...emptyCounts(), p50: p?.[50] ?? null, p95: p?.[95] ?? null, p99: p?.[99] ?? null });
  }
  for (const c of counts) {
    const bucket = buckets[c.b];
    if (!bucket) continue;
    bucket[c.status as CallStatus] += c.n;
    bucket.calls += c.n;
  }
  return { from: q.from, to: q.to, bucket: q.bucketMs / 1000, buckets };
}

/** GET /api/stats/devices: per device over [from, to), the `limit` slowest (by p95) and most failing (by failures). */
export async function deviceStatsRanking(store: CallStore, q: DeviceStatsQuery): Promise<DeviceStatsRanking> {
  await store.flush();
  const where = whereOf(q);
  const counts = await store.sql.all<{ product_id: string; device_name: string; status: string; n: number }>(
    `SELECT product_id, device_name, status, count(*) AS n FROM calls WHERE ${where.sql} GROUP BY product_id, device_name, status`,
    where.args,
  );
  const ranked = await store.sql.all<{ product_id: string; device_name: string; i: number; n: number; rtt: number }>(
    `WITH r AS (
       SELECT product_id, device_name, rtt_ms AS rtt,
              row_number() OVER (PARTITION BY product_id, device_name ORDER BY rtt_ms) AS i,
              count(*) OVER (PARTITION BY product_id, device_name) AS n
       FROM calls WHERE ${where.sql} AND status = 'success' AND rtt_ms IS NOT NULL)
     SELECT product_id, device_name, i, n, rtt FROM r WHERE ${AT_RANKS}`,
    where.args,
  );
  const key = (p: string, d: string) => `${p}/${d}`;
  const percentiles = percentilesOf(ranked.map((r) => ({ key: key(r.product_id, r.device_name), ...r })));

  const devices = new Map<string, DeviceCallStats>();
  for (const c of counts) {
    const k = key(c.product_id, c.device_name);
    let d = devices.get(k);
    if (!d) {
      const p = percentiles.get(k);
      d = {
        productId: c.product_id,
        deviceName: c.device_name,
        calls: 0,
        success: 0,
        failures: 0,
        failureRate: 0,
        p50: p?.[50] ?? null,
        p95: p?.[95] ?? null,
        p99: p?.[99] ?? null,
      };
      devices.set(k, d);
    }
    d.calls += c.n;
    if (c.status === "success") d.success += c.n;
    else if (c.status !== "pending") d.failures += c.n;
  }
  for (const d of devices.values()) d.failureRate = d.calls ? d.failures / d.calls : 0;
  const all = [...devices.values()];
  const byName = (a: DeviceCallStats, b: DeviceCallStats) => a.productId.localeCompare(b.productId) || a.deviceName.localeCompare(b.deviceName);
  const slowest = all
    .filter((d) => d.p95 !== null)
    .sort((a, b) => b.p95! - a.p95! || b.p99! - a.p99! || byName(a, b))
    .slice(0, q.limit);
  const failing = all
    .filter((d) => d.failures > 0)
    .sort((a, b) => b.failures - a.failures || b.failureRate - a.failureRate || byName(a, b))
    .slice(0, q.limit);
  return { from: q.from, to: q.to, slowest, failing };
}
