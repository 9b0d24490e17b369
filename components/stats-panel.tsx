"use client";
import { useId, useMemo, useState, useSyncExternalStore } from "react";
import { defaultBucketSeconds } from "@/lib/rrpc/stats";
import { TERMINAL_STATUSES, type CallStatus } from "@/lib/rrpc/types";
import type { CallStats } from "@/lib/rrpc/api";
import { useStats } from "@/lib/hooks/use-api";
import { ErrorAlert } from "./error-alert";
import { formatMs } from "./call-result";
import { TimeChart, type ChartSeries } from "./time-chart";

export const RANGES = [
  { id: "15m", label: "Last 15 minutes", ms: 15 * 60_000 },
  { id: "1h", label: "Last hour", ms: 60 * 60_000 },
  { id: "6h", label: "Last 6 hours", ms: 6 * 60 * 60_000 },
  { id: "24h", label: "Last 24 hours", ms: 24 * 60 * 60_000 },
  { id: "7d", label: "Last 7 days", ms: 7 * 24 * 60 * 60_000 },
] as const;
export type RangeId = (typeof RANGES)[number]["id"];

const TICK_MS = 10_000;
const subscribeTick = (onTick: () => void) => {
  const t = setInterval(onTick, TICK_MS);
  return () => clearInterval(t);
};
/** Now, to TICK_MS: the same value between ticks (a snapshot must not change on every read). */
const tick = () => Math.floor(Date.now() / TICK_MS) * TICK_MS;

/** Now, moving every 10 s; null while the page is rendered on the server (no clock to agree on). */
function useNow(): number | null {
  return useSyncExternalStore(subscribeTick, tick, () => null);
}

/** The window of a range: whole buckets, the last one holding now. */
export type StatsWindow = { from: number; to: number; bucket: number };

export function useStatsWindow(range: RangeId): StatsWindow | null {
  const now = useNow();
  return useMemo(() => {
    if (now === null) return null;
    const ms = RANGES.find((r) => r.id === range)!.ms;
    const bucket = defaultBucketSeconds(ms);
    const to = (Math.floor(now / (bucket * 1000)) + 1) * bucket * 1000;
    return { from: to - Math.ceil(ms / (bucket * 1000)) * bucket * 1000, to, bucket };
  }, [now, range]);
}

export function RangePicker({ value, onChange }: { value: RangeId; onChange: (r: RangeId) => void }) {
  const id = useId();
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id} className="font-medium">
        Range
      </label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value as RangeId)}
        className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
      >
        {RANGES.map((r) => (
          <option key={r.id} value={r.id}>
            {r.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Each status's colour, light and dark: readable on the dashboard's white and zinc-950. */
const STATUS_COLORS: Record<CallStatus, readonly [string, string]> = {
  success: ["#047857", "#34d399"],
  timeout: ["#b45309", "#fbbf24"],
  reply_too_large: ["#a21caf", "#e879f9"],
  offline: ["#52525b", "#a1a1aa"],
  not_subscribed: ["#1e40af", "#93c5fd"],
  broker_unavailable: ["#be123c", "#fb7185"],
  busy: ["#c2410c", "#fdba74"],
  interrupted: ["#7f1d1d", "#fca5a5"],
  pending: ["#0369a1", "#7dd3fc"],
};
const PERCENTILE_COLORS = {
  p50: ["#0369a1", "#7dd3fc"],
  p95: ["#6d28d9", "#c4b5fd"],
  p99: ["#be123c", "#fb7185"],
} as const;

const formatRate = (v: number | null) => (v === null ? "—" : v === 0 ? "0" : v < 0.01 ? v.toExponential(1) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const formatCount = (v: number | null) => (v === null ? "—" : String(v));
const formatLatency = (v: number | null) => formatMs(v);
/** At most two decimals, no trailing zeros: "0.5 ms", "300 ms", "1.25 s". */
const axisLatency = (ms: number) => (ms >= 1000 ? `${+(ms / 1000).toFixed(2)} s` : `${+ms.toFixed(2)} ms`);

/** Calls per second by status: success, and each other status that occurs in the range. */
export function CallsChart({ stats, testId }: { stats: CallStats; testId: string }) {
  const { x, series, counts } = useMemo(() => {
    const statuses = TERMINAL_STATUSES.filter((s) => s === "success" || stats.buckets.some((b) => b[s] > 0));
    return {
      x: stats.buckets.map((b) => b.t),
      series: statuses.map((s): ChartSeries => ({ label: s, values: stats.buckets.map((b) => b[s] / stats.bucket), color: STATUS_COLORS[s] })),
      counts: statuses.map((s) => stats.buckets.map((b) => b[s])),
    };
  }, [stats]);
  return (
    <TimeChart
      title="Calls per second by status"
      x={x}
      series={series}
      format={formatRate}
      testId={testId}
      table={{ caption: `calls per ${stats.bucket} s bucket, by status`, values: counts, format: formatCount }}
    />
  );
}

/** Round-trip percentiles of successful calls, per bucket. */
export function LatencyChart({ stats, testId }: { stats: CallStats; testId: string }) {
  const { x, series } = useMemo(
    () => ({
      x: stats.buckets.map((b) => b.t),
      series: (["p50", "p95", "p99"] as const).map((p): ChartSeries => ({
        label: p,
        values: stats.buckets.map((b) => b[p]),
        color: PERCENTILE_COLORS[p],
      })),
    }),
    [stats],
  );
  return (
    <TimeChart
      title="Round trip of successful calls (p50, p95, p99)"
      x={x}
      series={series}
      format={formatLatency}
      axisFormat={axisLatency}
      testId={testId}
    />
  );
}

function Tile({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="rounded-lg border border-zinc-200 px-3 py-2 dark:border-zinc-800">
      <dt className="text-xs text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="font-mono text-lg" data-testid={testId}>
        {value}
      </dd>
    </div>
  );
}

/** The range as a whole: calls, failures and exact percentiles (one bucket over the range). */
export function StatsSummary({ total }: { total: CallStats | undefined }) {
  const b = total?.buckets[0];
  const ended = b ? b.calls - b.pending : 0;
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
      <Tile label="Calls" value={b ? String(b.calls) : "—"} testId="stat-calls" />
      <Tile label="Success rate" value={b && ended > 0 ? `${((b.success / ended) * 100).toFixed(1)}%` : "—"} testId="stat-success-rate" />
      <Tile label="Failures" value={b ? String(ended - b.success) : "—"} testId="stat-failures" />
      <Tile label="p50 round trip" value={formatMs(b?.p50)} testId="stat-p50" />
      <Tile label="p95 round trip" value={formatMs(b?.p95)} testId="stat-p95" />
      <Tile label="p99 round trip" value={formatMs(b?.p99)} testId="stat-p99" />
    </dl>
  );
}

/**
 * A range picker, the range's totals and the two charts, for the whole fleet or one device. The
 * charts' window (of the answer they show) is on the section (data-from, data-to, data-bucket)
 * for whoever checks them.
 */
export function StatsPanel({
  productId,
  deviceName,
  children,
}: {
  productId?: string;
  deviceName?: string;
  /** More of the page that shows the same window (the overview's device tables). */
  children?: (w: StatsWindow | null) => React.ReactNode;
}) {
  const [range, setRange] = useState<RangeId>("1h");
  const w = useStatsWindow(range);
  const device = { productId, deviceName };
  const { data: stats, error } = useStats(w && { ...w, ...device });
  const { data: total } = useStats(w && { from: w.from, to: w.to, bucket: (w.to - w.from) / 1000, ...device });
  return (
    <section
      aria-label="Calls over time"
      className="space-y-4"
      data-testid="stats-panel"
      data-from={stats?.from}
      data-to={stats?.to}
      data-bucket={stats?.bucket}
      data-loaded={stats && total ? "true" : "false"}
    >
      <RangePicker value={range} onChange={setRange} />
      <ErrorAlert error={error} prefix="Cannot load statistics" />
      <StatsSummary total={total} />
      <div className="grid grid-cols-1 gap-4 xl:grid-cols-2">
        {stats ? (
          <>
            <CallsChart stats={stats} testId="calls-chart" />
            <LatencyChart stats={stats} testId="latency-chart" />
          </>
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Loading…</p>
        )}
      </div>
      {children?.(w)}
    </section>
  );
}
