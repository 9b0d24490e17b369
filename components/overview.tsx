"use client";
import Link from "next/link";
import type { DeviceCallStats } from "@/lib/rrpc/api";
import { useDeviceRanking } from "@/lib/hooks/use-api";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { ErrorAlert } from "./error-alert";
import { formatMs } from "./call-result";
import { StatsPanel, type StatsWindow } from "./stats-panel";
import { devicePage } from "./device-href";

const RANKING_COLUMNS: Column[] = [
  { label: "Device" },
  { label: "Calls", align: "right" },
  { label: "Failures", align: "right" },
  { label: "Failure rate", align: "right" },
  { label: "p50", align: "right" },
  { label: "p95", align: "right" },
  { label: "p99", align: "right" },
];

function RankingTable({ title, devices, empty, testId }: { title: string; devices: DeviceCallStats[] | undefined; empty: string; testId: string }) {
  return (
    <div className="min-w-0 space-y-2">
      <h2 className="text-base font-semibold">{title}</h2>
      <DataTable columns={RANKING_COLUMNS} data-testid={testId}>
        {devices?.map((d) => (
          <tr
            key={`${d.productId}/${d.deviceName}`}
            data-device={`${d.productId}/${d.deviceName}`}
            className="border-t border-zinc-100 dark:border-zinc-800"
          >
            <td className="px-2 py-1">
              <Link className="underline" href={devicePage(d.productId, d.deviceName)}>
                {d.productId}/{d.deviceName}
              </Link>
            </td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono">{d.calls}</td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono">{d.failures}</td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono">{(d.failureRate * 100).toFixed(1)}%</td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono">{formatMs(d.p50)}</td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono">{formatMs(d.p95)}</td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono">{formatMs(d.p99)}</td>
          </tr>
        ))}
        {devices && devices.length === 0 && <EmptyRow columns={RANKING_COLUMNS.length}>{empty}</EmptyRow>}
      </DataTable>
    </div>
  );
}

function DeviceRanking({ window: w }: { window: StatsWindow | null }) {
  const { data, error } = useDeviceRanking(w && { from: w.from, to: w.to, limit: 10 });
  return (
    <div className="space-y-2">
      <ErrorAlert error={error} prefix="Cannot load the device ranking" />
      <div className="space-y-4">
        <RankingTable
          title="Slowest devices (p95 round trip)"
          devices={data?.slowest}
          empty="No successful calls in this range."
          testId="slowest-devices"
        />
        <RankingTable title="Most failing devices" devices={data?.failing} empty="No failed calls in this range." testId="failing-devices" />
      </div>
    </div>
  );
}

/** The fleet at a glance: calls by status and round trips over time, the slowest and most failing devices. */
export function Overview() {
  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Overview</h1>
      <StatsPanel>{(w) => <DeviceRanking window={w} />}</StatsPanel>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        From the stored calls, by the time they started; refreshed every 10 s. Round trips are those of successful calls (exact percentiles).
        Prometheus metrics are at <code>/metrics</code>.
      </p>
    </div>
  );
}
