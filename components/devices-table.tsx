"use client";
import Link from "next/link";
import { useEffect } from "react";
import { useDevices } from "@/lib/hooks/use-api";
import { useLive } from "@/lib/hooks/use-live";
import { deviceKey } from "@/lib/hooks/live-store";
import { OnlineDot, StatusBadge } from "./status-badge";
import { formatMs } from "./call-result";

export function DevicesTable() {
  const { data, error, mutate } = useDevices();
  const { snapshot } = useLive();
  // New calls change the stats: refresh when the live view has seen new traffic, at most every 2 s.
  useEffect(() => {
    const t = setTimeout(() => void mutate(), 2000);
    return () => clearTimeout(t);
  }, [snapshot.messages, mutate]);

  const devices = data?.devices ?? [];
  return (
    <section aria-labelledby="devices-title" className="space-y-4">
      <h1 id="devices-title" className="text-lg font-semibold">
        Devices
      </h1>
      {error && <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">{error.message}</p>}
      <div className="overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800">
        <table className="w-full text-left text-sm" data-testid="devices">
          <thead className="bg-zinc-50 text-xs uppercase text-zinc-600 dark:bg-zinc-900 dark:text-zinc-400">
            <tr>
              <th scope="col" className="px-2 py-1.5">Device</th>
              <th scope="col" className="px-2 py-1.5">Online</th>
              <th scope="col" className="px-2 py-1.5">Last call</th>
              <th scope="col" className="px-2 py-1.5 text-right">Calls</th>
              <th scope="col" className="px-2 py-1.5 text-right">Success</th>
              <th scope="col" className="px-2 py-1.5 text-right">p50 RTT</th>
              <th scope="col" className="px-2 py-1.5 text-right">p95 RTT</th>
              <th scope="col" className="px-2 py-1.5"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => {
              const key = deviceKey(d.productId, d.deviceName);
              const online = snapshot.presence.get(key) ?? d.online;
              const q = new URLSearchParams({ productId: d.productId, deviceName: d.deviceName }).toString();
              return (
                <tr key={key} data-device={key} className="border-t border-zinc-100 dark:border-zinc-800">
                  <td className="px-2 py-1 font-medium">{d.productId}/{d.deviceName}</td>
                  <td className="px-2 py-1"><OnlineDot online={online} showLabel /></td>
                  <td className="px-2 py-1">
                    {d.lastCall ? (
                      <span className="flex items-center gap-2">
                        <StatusBadge status={d.lastCall.status} />
                        <Link className="font-mono text-xs underline" href={`/calls/${d.lastCall.processId}`}>{d.lastCall.processId}</Link>
                        <span className="text-xs text-zinc-500">{new Date(d.lastCall.at).toLocaleString()}</span>
                      </span>
                    ) : (
                      <span className="text-zinc-500">never called</span>
                    )}
                  </td>
                  <td className="px-2 py-1 text-right font-mono">{d.calls}</td>
                  <td className="px-2 py-1 text-right font-mono">{d.successRate === null ? "—" : `${(d.successRate * 100).toFixed(1)}%`}</td>
                  <td className="px-2 py-1 text-right font-mono">{formatMs(d.p50Ms)}</td>
                  <td className="px-2 py-1 text-right font-mono">{formatMs(d.p95Ms)}</td>
                  <td className="whitespace-nowrap px-2 py-1 text-sm">
                    <Link className="underline" href={`/?${q}`}>Call</Link>
                    {" · "}
                    <Link className="underline" href={`/history?${q}`}>History</Link>
                  </td>
                </tr>
              );
            })}
            {data && devices.length === 0 && (
              <tr><td colSpan={8} className="px-2 py-6 text-center text-zinc-500">No devices seen yet.</td></tr>
            )}
          </tbody>
        </table>
      </div>
      <p className="text-xs text-zinc-500">A device is online while it is subscribed to its request topic. RTT percentiles are over its last 100 successful calls.</p>
    </section>
  );
}
