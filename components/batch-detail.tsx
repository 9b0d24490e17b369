"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import { BATCH_TARGET_STATUSES, type BatchTargetStatus } from "@/lib/rrpc/batch";
import { previewLabel } from "@/lib/rrpc/live";
import { BATCH_KEYS, cancelBatch, retryBatch, useBatch, useBatchTargets } from "@/lib/hooks/use-batch";
import { useCommand } from "@/lib/hooks/use-commands";
import { endedTargets } from "@/lib/hooks/batch-merge";
import { useAction } from "@/lib/hooks/use-action";
import { useRole } from "@/lib/hooks/use-api";
import { roleAllows } from "@/lib/rrpc/roles";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { ErrorAlert } from "./error-alert";
import { formatMs } from "./call-result";
import { secondaryButtonCls } from "./field";
import { BatchCounts, BatchProgress, BatchStatusBadge, paramsLabel, TargetStatusBadge } from "./batch-parts";

const TARGET_COLUMNS: Column[] = [{ label: "#", align: "right" }, { label: "Device" }, { label: "Status" }, { label: "Call" }];
/** The targets table follows a running batch at most this often. */
const TARGETS_EVERY_MS = 1000;

function Item({ term, children, testId }: { term: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-zinc-500 dark:text-zinc-400">{term}</dt>
      <dd className="break-words text-sm" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

/**
 * One batch, live: progress and counts move with the hub's live feed (polled while the live
 * connection is down), its targets with their calls, cancel, retry what failed, export.
 */
export function BatchDetail({ batchId }: { batchId: string }) {
  const router = useRouter();
  const { data: b, error, connection } = useBatch(batchId);
  const { data: command } = useCommand(b?.commandId);
  const [filter, setFilter] = useState<BatchTargetStatus | "">("");
  const targets = useBatchTargets(batchId, filter);
  const filterId = useId();

  // The targets table follows the batch: at most every TARGETS_EVERY_MS while it runs, and at its end.
  const ended = b ? endedTargets(b) : 0;
  const status = b?.status;
  const reloadTargets = targets.mutate;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!status) return;
    if (status !== "running") {
      void reloadTargets();
      return;
    }
    timer.current ??= setTimeout(() => {
      timer.current = null;
      void reloadTargets();
    }, TARGETS_EVERY_MS);
  }, [ended, status, reloadTargets]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  // Cancelling and retrying are an operator's: a viewer sees them disabled.
  const role = useRole();
  const mayRun = role === null || roleAllows(role, "operator");
  const cancel = useAction(async () => {
    if (window.confirm("Cancel this batch? Targets not sent yet end cancelled; calls in flight finish.")) await cancelBatch(batchId);
  });
  const retry = useAction(async () => {
    const next = await retryBatch(batchId);
    router.push(`/batches/${encodeURIComponent(next.batchId)}`);
  });

  if (error && !b) return <ErrorAlert error={error} prefix={`Cannot load batch ${batchId}`} />;
  if (!b) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>;

  const rows = targets.data?.flatMap((p) => p.targets) ?? [];
  const hasMore = targets.data ? targets.data.at(-1)?.nextAfter !== null : false;
  const failed = b.total - b.counts.success;
  const live = connection.state === "connected";

  return (
    <section aria-labelledby="batch-title" className="space-y-5" data-batch-id={b.batchId}>
      <p className="text-sm">
        <Link href="/batches" className="underline">
          Batches
        </Link>
      </p>
      <div className="flex flex-wrap items-center gap-3">
        <h1 id="batch-title" className="text-lg font-semibold">
          Batch <span className="font-mono">{b.batchId}</span>
        </h1>
        <BatchStatusBadge status={b.status} />
        <span className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="batch-updates" data-live={live ? "true" : "false"}>
          {b.status !== "running" ? "" : live ? "Updated live" : "Live view down: checked every second"}
        </span>
        <span className="ml-auto flex flex-wrap gap-2">
          {b.status === "running" && (
            <button
              type="button"
              className={secondaryButtonCls}
              disabled={cancel.busy || !mayRun}
              title={mayRun ? undefined : `your role (${role}) cannot change batches`}
              onClick={() => void cancel.run()}
            >
              Cancel batch
            </button>
          )}
          {b.status !== "running" && failed > 0 && (
            <button
              type="button"
              className={secondaryButtonCls}
              disabled={retry.busy || !mayRun}
              title={mayRun ? undefined : `your role (${role}) cannot change batches`}
              onClick={() => void retry.run()}
            >
              Retry failed ({failed})
            </button>
          )}
          <a className={secondaryButtonCls} href={BATCH_KEYS.export(b.batchId, "csv")} download>
            Export CSV
          </a>
          <a className={secondaryButtonCls} href={BATCH_KEYS.export(b.batchId, "json")} download>
            Export JSON
          </a>
        </span>
      </div>
      <ErrorAlert error={cancel.error} prefix="Cannot cancel" />
      <ErrorAlert error={retry.error} prefix="Cannot retry" />
      <ErrorAlert error={error} prefix="Cannot refresh the batch" />

      <BatchProgress batch={b} />
      <BatchCounts batch={b} />

      <dl className="grid grid-cols-1 gap-3 rounded-lg border border-zinc-200 p-4 sm:grid-cols-2 lg:grid-cols-4 dark:border-zinc-800">
        {b.commandId ? (
          <>
            <Item term="Command" testId="batch-command">
              <Link className="underline" href={`/commands/${encodeURIComponent(b.commandId)}`}>
                {command?.name ?? b.commandId}
              </Link>
            </Item>
            <Item term="Parameters" testId="batch-params">
              <span className="font-mono text-xs">{paramsLabel(b.params) || "none"}</span>
            </Item>
          </>
        ) : null}
        <Item term={`Payload (${b.payload.bytes} bytes)`} testId="batch-payload">
          <span className="font-mono text-xs">{previewLabel(b.payload)}</span>
        </Item>
        <Item term="Targets">{b.total}</Item>
        <Item term="Created by">{b.createdBy ?? "—"}</Item>
        <Item term="Started">{new Date(b.startedAt).toLocaleString()}</Item>
        <Item term="Ended">{b.endedAt ? new Date(b.endedAt).toLocaleString() : "—"}</Item>
        <Item term="Duration" testId="batch-duration">
          {formatMs(b.durationMs)}
        </Item>
        <Item term="Timeout per call">{b.timeoutMs} ms</Item>
        <Item term="Concurrency">
          {b.concurrency}
          {b.ratePerSecond ? `, at most ${b.ratePerSecond}/s` : ""}
        </Item>
        {b.retryOf && (
          <Item term="Retry of">
            <Link className="font-mono text-xs underline" href={`/batches/${encodeURIComponent(b.retryOf)}`}>
              {b.retryOf}
            </Link>
          </Item>
        )}
      </dl>

      <div className="space-y-2">
        <div className="flex flex-wrap items-end gap-3">
          <h2 className="text-sm font-semibold">Targets</h2>
          <div>
            <label htmlFor={filterId} className="mb-1 block text-xs font-medium">
              Show
            </label>
            <select
              id={filterId}
              className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
              value={filter}
              onChange={(e) => setFilter(e.target.value as BatchTargetStatus | "")}
            >
              <option value="">All targets ({b.total})</option>
              {BATCH_TARGET_STATUSES.filter((s) => b.counts[s] > 0 || s === filter).map((s) => (
                <option key={s} value={s}>
                  {s} ({b.counts[s]})
                </option>
              ))}
            </select>
          </div>
        </div>
        <ErrorAlert error={targets.error} prefix="Cannot load targets" />
        <DataTable columns={TARGET_COLUMNS} data-testid="batch-targets">
          {rows.map((t) => (
            <tr
              key={t.index}
              data-device={`${t.productId}/${t.deviceName}`}
              data-status={t.status}
              className="border-t border-zinc-100 dark:border-zinc-800"
            >
              <td className="px-2 py-1 text-right font-mono text-xs">{t.index}</td>
              <td className="px-2 py-1">
                {t.productId}/{t.deviceName}
              </td>
              <td className="px-2 py-1">
                <TargetStatusBadge status={t.status} />
              </td>
              <td className="px-2 py-1 font-mono text-xs">
                {t.processId ? (
                  <Link className="underline" href={`/calls/${t.processId}`}>
                    {t.processId}
                  </Link>
                ) : (
                  <span className="text-zinc-500 dark:text-zinc-400">no call</span>
                )}
              </td>
            </tr>
          ))}
          {targets.data && rows.length === 0 && (
            <EmptyRow columns={TARGET_COLUMNS.length}>No targets {filter ? `with status ${filter}` : ""}.</EmptyRow>
          )}
        </DataTable>
        {hasMore && (
          <button type="button" className={secondaryButtonCls} disabled={targets.isValidating} onClick={() => void targets.setSize(targets.size + 1)}>
            {targets.isValidating ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </section>
  );
}
