"use client";
import Link from "next/link";
import { useDevicePresence, useDevices, useCallPages } from "@/lib/hooks/use-api";
import { useLive } from "@/lib/hooks/use-live";
import { deviceKey } from "@/lib/hooks/live-store";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { ErrorAlert } from "./error-alert";
import { OnlineDot, StatusBadge } from "./status-badge";
import { formatMs } from "./call-result";
import { StatsPanel } from "./stats-panel";

const RECENT = 10;
const CALL_COLUMNS: Column[] = [{ label: "Started" }, { label: "processId" }, { label: "Status" }, { label: "RTT", align: "right" }];

function RecentCalls({ productId, deviceName, historyHref }: { productId: string; deviceName: string; historyHref: string }) {
  const { data, error } = useCallPages({ productId, deviceName }, RECENT);
  const calls = data?.[0]?.calls ?? [];
  return (
    <section aria-labelledby="recent-calls" className="space-y-2">
      <h2 id="recent-calls" className="text-base font-semibold">
        Recent calls
      </h2>
      <ErrorAlert error={error} prefix="Cannot load the device's calls" />
      <DataTable columns={CALL_COLUMNS} data-testid="device-calls">
        {calls.map((c) => (
          <tr key={c.processId} data-process-id={c.processId} className="border-t border-zinc-100 dark:border-zinc-800">
            <td className="whitespace-nowrap px-2 py-1 text-xs text-zinc-600 dark:text-zinc-400">{new Date(c.startedAt).toLocaleString()}</td>
            <td className="px-2 py-1 font-mono text-xs">
              <Link className="underline" href={`/calls/${c.processId}`}>
                {c.processId}
              </Link>
            </td>
            <td className="px-2 py-1">
              <StatusBadge status={c.status} />
            </td>
            <td className="px-2 py-1 text-right font-mono text-xs">{formatMs(c.rttMs)}</td>
          </tr>
        ))}
        {data && calls.length === 0 && <EmptyRow columns={CALL_COLUMNS.length}>No calls to this device yet.</EmptyRow>}
      </DataTable>
      <Link className="text-sm underline" href={historyHref}>
        Every call of this device in History
      </Link>
    </section>
  );
}

function OnlineHistory({ productId, deviceName }: { productId: string; deviceName: string }) {
  const { data, error } = useDevicePresence(productId, deviceName);
  return (
    <section aria-labelledby="online-history" className="space-y-2">
      <h2 id="online-history" className="text-base font-semibold">
        Online history
      </h2>
      <ErrorAlert error={error} prefix="Cannot load the online history" />
      {data && !data.tracked && <p className="text-sm text-zinc-600 dark:text-zinc-400">Not known with an external broker (MQTT_URL).</p>}
      {data?.tracked && (
        <>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            Changes seen by the embedded broker since the hub started ({new Date(data.since!).toLocaleString()}), newest first
            {data.complete ? "" : "; older ones were forgotten"}.
          </p>
          {data.changes.length === 0 ? (
            <p className="text-sm">No change since then.</p>
          ) : (
            <ol className="space-y-1 text-sm" data-testid="online-history">
              {data.changes.map((c) => (
                <li key={c.at + String(c.online)} className="flex items-center gap-2">
                  <OnlineDot online={c.online} showLabel />
                  <time dateTime={c.at} className="font-mono text-xs">
                    {new Date(c.at).toLocaleString()}
                  </time>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

/** One device: its state, a link to call it, its calls and round trips over time, its recent calls and online history. */
export function DeviceDetail({ productId, deviceName }: { productId: string; deviceName: string }) {
  const { data, error } = useDevices();
  const { snapshot } = useLive();
  const summary = data?.devices.find((d) => d.productId === productId && d.deviceName === deviceName);
  const online = snapshot.presence.get(deviceKey(productId, deviceName)) ?? summary?.online ?? null;
  const q = new URLSearchParams({ productId, deviceName }).toString();
  return (
    <div className="space-y-6">
      <div className="space-y-2">
        <p className="text-sm">
          <Link className="underline" href="/devices">
            Devices
          </Link>
        </p>
        <h1 className="font-mono text-lg font-semibold">
          {productId}/{deviceName}
        </h1>
        <ErrorAlert error={error} prefix="Cannot load devices" />
        <div className="flex flex-wrap items-center gap-4 text-sm" data-testid="device-state">
          <OnlineDot online={online} showLabel />
          <span className="text-xs text-zinc-600 dark:text-zinc-400">
            {!data ? "" : !summary?.registered ? "not registered" : summary.disabled ? "disabled" : "registered"}
          </span>
          <Link
            className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
            href={`/?${q}`}
          >
            Call this device
          </Link>
        </div>
      </div>
      <StatsPanel productId={productId} deviceName={deviceName} />
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
        <RecentCalls productId={productId} deviceName={deviceName} historyHref={`/history?${q}`} />
        <OnlineHistory productId={productId} deviceName={deviceName} />
      </div>
    </div>
  );
}
