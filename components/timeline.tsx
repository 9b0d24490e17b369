"use client";
import { DataTable, EmptyRow, callColumns } from "./data-table";
import Link from "next/link";
import { memo, useId, useMemo, useState } from "react";
import { previewLabel } from "@/lib/rrpc/live";
import { CALL_STATUSES, type CallStatus } from "@/lib/rrpc/types";
import { useLive } from "@/lib/hooks/use-live";
import type { LiveRow, LiveSnapshot } from "@/lib/hooks/live-store";
import { StatusBadge } from "./status-badge";
import { formatMs } from "./call-result";

/** Rows rendered at once; the rest are counted, not drawn. */
export const WINDOW_ROWS = 200;

function time(at: number) {
  const d = new Date(at);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

/**
 * Every RRPC call crossing the broker, live, one row per processId. Pausing freezes the view
 * (updates keep arriving and are counted); filters apply to what is kept in memory.
 */
export function Timeline() {
  const { snapshot } = useLive();
  const [paused, setPaused] = useState<LiveSnapshot | null>(null);
  const [device, setDevice] = useState("");
  const [status, setStatus] = useState<CallStatus | "">("");
  const ids = { device: useId(), status: useId() };

  const shown = paused ?? snapshot;
  const filtered = useMemo(() => {
    const needle = device.trim().toLowerCase();
    if (!needle && !status) return shown.rows;
    return shown.rows.filter((r) => (!status || r.status === status) && (!needle || `${r.productId}/${r.deviceName}`.toLowerCase().includes(needle)));
  }, [shown, device, status]);
  const rows = filtered.slice(0, WINDOW_ROWS);
  const more = filtered.length - rows.length;
  const newSincePause = paused ? snapshot.messages - paused.messages : 0;

  return (
    <section aria-labelledby="timeline-title" className="space-y-2">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="timeline-title" className="text-lg font-semibold">
          Live timeline
        </h2>
        <div className="ml-auto flex flex-wrap items-center gap-2">
          <label htmlFor={ids.device} className="sr-only">
            Filter by device
          </label>
          <input
            id={ids.device}
            placeholder="Filter device"
            value={device}
            onChange={(e) => setDevice(e.target.value)}
            className="w-40 rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
          <label htmlFor={ids.status} className="sr-only">
            Filter by status
          </label>
          <select
            id={ids.status}
            value={status}
            onChange={(e) => setStatus(e.target.value as CallStatus | "")}
            className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">All statuses</option>
            {CALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button
            type="button"
            aria-pressed={paused !== null}
            onClick={() => setPaused(paused ? null : snapshot)}
            className="rounded border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            {paused ? `Resume${newSincePause ? ` (${newSincePause} new)` : ""}` : "Pause"}
          </button>
        </div>
      </div>
      <DataTable columns={callColumns("Time")} data-testid="timeline" data-messages={snapshot.messages}>
        {rows.map((r) => (
          <Row key={r.processId} r={r} />
        ))}
        {rows.length === 0 && (
          <EmptyRow columns={7}>No calls yet. Calls from this page, the HTTP API or any MQTT client appear here as they happen.</EmptyRow>
        )}
      </DataTable>
      <p className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="timeline-more">
        {more > 0 && `${more} more not shown. `}
        {shown.dropped > 0 && `${shown.dropped} older calls dropped from memory; see History. `}
        {paused && "Paused."}
      </p>
    </section>
  );
}

const Row = memo(function Row({ r }: { r: LiveRow }) {
  return (
    <tr data-process-id={r.processId} data-status={r.status} className="border-t border-zinc-100 dark:border-zinc-800">
      <td className="whitespace-nowrap px-2 py-1 font-mono text-xs text-zinc-500 dark:text-zinc-400">{time(r.at)}</td>
      <td className="px-2 py-1 font-mono text-xs">
        {r.viaHub ? (
          <Link className="underline" href={`/calls/${r.processId}`}>
            {r.processId}
          </Link>
        ) : (
          r.processId
        )}
      </td>
      <td className="min-w-40 max-w-64 px-2 py-1 wrap-anywhere">
        {r.productId}/{r.deviceName}
      </td>
      <td className="max-w-48 truncate px-2 py-1 font-mono text-xs" title={previewLabel(r.request)}>
        {previewLabel(r.request)}
      </td>
      <td className="max-w-48 truncate px-2 py-1 font-mono text-xs" title={previewLabel(r.reply)}>
        {previewLabel(r.reply)}
      </td>
      <td className="whitespace-nowrap px-2 py-1">
        <StatusBadge status={r.status} />
        {r.late && <span className="ml-1 text-xs text-amber-700 dark:text-amber-300">late reply</span>}
        {r.duplicate && <span className="ml-1 text-xs text-amber-700 dark:text-amber-300">duplicate</span>}
        {r.foreign && <span className="ml-1 text-xs text-rose-700 dark:text-rose-300">foreign reply</span>}
      </td>
      <td className="whitespace-nowrap px-2 py-1 text-right font-mono text-xs">{formatMs(r.rttMs)}</td>
    </tr>
  );
});
