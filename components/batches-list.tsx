"use client";
import Link from "next/link";
import { useMemo } from "react";
import { BATCH_TARGET_STATUSES } from "@/lib/rrpc/batch";
import { useBatches } from "@/lib/hooks/use-batch";
import { useCommands } from "@/lib/hooks/use-commands";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { ErrorAlert } from "./error-alert";
import { formatMs } from "./call-result";
import { BatchProgress, BatchStatusBadge, batchWhat } from "./batch-parts";

const COLUMNS: Column[] = [
  { label: "Batch" },
  { label: "Status" },
  { label: "Progress" },
  { label: "Outcomes" },
  { label: "Sends" },
  { label: "Created by" },
  { label: "Started" },
  { label: "Duration", align: "right" },
];

/** The newest batches, live: a batch started anywhere appears, running ones move on. */
export function BatchesList() {
  const { data, error, connection } = useBatches();
  const { data: commands } = useCommands();
  const names = useMemo(() => new Map((commands?.commands ?? []).map((c) => [c.id, c.name])), [commands]);
  const batches = data?.batches ?? [];
  return (
    <section aria-labelledby="batches-title" className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="batches-title" className="text-lg font-semibold">
          Batches
        </h1>
        <span className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="batches-updates">
          {connection.state === "connected" ? "Updated live" : "Live view down: running batches are checked every second"}
        </span>
      </div>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        A payload or a saved command sent to many devices. Start one from the{" "}
        <Link className="underline" href="/devices">
          Devices
        </Link>{" "}
        page: select devices, then Run on selected.
      </p>
      <ErrorAlert error={error} prefix="Cannot load batches" />
      <DataTable columns={COLUMNS} data-testid="batches">
        {batches.map((b) => (
          <tr
            key={b.batchId}
            data-batch-id={b.batchId}
            data-batch-status={b.status}
            className="border-t border-zinc-100 align-top dark:border-zinc-800"
          >
            <td className="px-2 py-1 font-mono text-xs">
              <Link className="underline" href={`/batches/${encodeURIComponent(b.batchId)}`}>
                {b.batchId}
              </Link>
              {b.retryOf && <span className="block text-zinc-500 dark:text-zinc-400">retry</span>}
            </td>
            <td className="px-2 py-1">
              <BatchStatusBadge status={b.status} />
            </td>
            <td className="px-2 py-1">
              <BatchProgress batch={b} label={`Progress of ${b.batchId}`} compact />
            </td>
            <td className="px-2 py-1 text-xs" data-testid="batch-outcomes">
              {BATCH_TARGET_STATUSES.filter((s) => b.counts[s] > 0)
                .map((s) => `${b.counts[s]} ${s.replaceAll("_", " ")}`)
                .join(" · ")}
            </td>
            <td className="max-w-64 truncate px-2 py-1 font-mono text-xs">{batchWhat(b, (id) => names.get(id))}</td>
            <td className="px-2 py-1 text-xs">{b.createdBy ?? "—"}</td>
            <td className="whitespace-nowrap px-2 py-1 text-xs text-zinc-500 dark:text-zinc-400">{new Date(b.startedAt).toLocaleString()}</td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono text-xs">{formatMs(b.durationMs)}</td>
          </tr>
        ))}
        {data && batches.length === 0 && <EmptyRow columns={COLUMNS.length}>No batches yet.</EmptyRow>}
      </DataTable>
    </section>
  );
}
