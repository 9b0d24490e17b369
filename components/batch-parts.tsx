import { BATCH_TARGET_STATUSES, type BatchJson, type BatchStatus, type BatchTargetStatus } from "@/lib/rrpc/batch";
import { CALL_STATUSES, type CallStatus } from "@/lib/rrpc/types";
import { previewLabel } from "@/lib/rrpc/live";
import { endedTargets, progressPercent } from "@/lib/hooks/batch-merge";
import { StatusBadge } from "./status-badge";

const BATCH_STYLES: Record<BatchStatus, string> = {
  running: "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
  done: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
  cancelled: "bg-zinc-200 text-zinc-900 dark:bg-zinc-700 dark:text-zinc-100",
  interrupted: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
};

/** Target outcomes that are not a call's status: refused before publishing, or never sent. */
const OTHER_STYLES: Record<Exclude<BatchTargetStatus, CallStatus>, string> = {
  device_not_found: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
  device_disabled: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
  store_unavailable: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
  cancelled: "bg-zinc-200 text-zinc-900 dark:bg-zinc-700 dark:text-zinc-100",
};

/** The bar's colour per outcome. */
const BAR: Partial<Record<BatchTargetStatus, string>> = {
  success: "bg-emerald-600",
  timeout: "bg-amber-500",
  offline: "bg-zinc-500",
  not_subscribed: "bg-zinc-500",
  cancelled: "bg-zinc-400",
};

const isCallStatus = (s: BatchTargetStatus): s is CallStatus => (CALL_STATUSES as readonly string[]).includes(s);

export function BatchStatusBadge({ status }: { status: BatchStatus }) {
  return (
    <span data-batch-status={status} className={`inline-flex items-center rounded px-2 py-0.5 text-xs font-medium ${BATCH_STYLES[status]}`}>
      {status === "running" && <span aria-hidden className="mr-1 inline-block h-1.5 w-1.5 animate-pulse rounded-full bg-current" />}
      {status}
    </span>
  );
}

export function TargetStatusBadge({ status }: { status: BatchTargetStatus }) {
  if (isCallStatus(status)) return <StatusBadge status={status} />;
  return (
    <span data-status={status} className={`inline-flex items-center rounded px-2 py-0.5 text-xs font-medium ${OTHER_STYLES[status]}`}>
      {status.replaceAll("_", " ")}
    </span>
  );
}

/**
 * How far a batch is: a progress bar (targets ended of all, by outcome) with its value for
 * assistive technology.
 */
export function BatchProgress({ batch, label = "Progress", compact = false }: { batch: BatchJson; label?: string; compact?: boolean }) {
  const pct = progressPercent(batch);
  const ended = endedTargets(batch);
  const text = `${ended} of ${batch.total} targets ended`;
  return (
    <div className={compact ? "min-w-32" : "space-y-1"}>
      {!compact && (
        <p className="flex justify-between text-sm">
          <span className="font-medium">{label}</span>
          <span data-testid="batch-progress-text">
            {text} ({pct} %)
          </span>
        </p>
      )}
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct} %: ${text}`}
        data-testid="batch-progress"
        className={`flex overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800 ${compact ? "h-2" : "h-3"}`}
      >
        {BATCH_TARGET_STATUSES.filter((s) => s !== "pending" && batch.counts[s] > 0).map((s) => (
          <span key={s} className={`h-full ${BAR[s] ?? "bg-rose-600"}`} style={{ width: `${(batch.counts[s] / Math.max(1, batch.total)) * 100}%` }} />
        ))}
      </div>
      {compact && (
        <span className="text-xs text-zinc-600 dark:text-zinc-400">
          {pct} % · {ended}/{batch.total}
        </span>
      )}
    </div>
  );
}

/** The non-zero counts by status (pending while there are any). */
export function BatchCounts({ batch }: { batch: BatchJson }) {
  const shown = BATCH_TARGET_STATUSES.filter((s) => batch.counts[s] > 0);
  return (
    <ul data-testid="batch-counts" className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
      {shown.map((s) => (
        <li key={s} data-outcome={s} data-count={batch.counts[s]} className="flex items-center gap-1.5">
          <TargetStatusBadge status={s} />
          <span className="font-mono">{batch.counts[s]}</span>
        </li>
      ))}
      {batch.unsent > 0 && (
        <li data-outcome="unsent" data-count={batch.unsent} className="flex items-center gap-1.5 text-zinc-600 dark:text-zinc-400">
          (unsent <span className="font-mono">{batch.unsent}</span>)
        </li>
      )}
    </ul>
  );
}

/** "t=21, mode=\"boost\"" */
export function paramsLabel(params: BatchJson["params"]): string {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
}

/** What a batch sends: the command's name (or id) with its parameters, else the payload's preview. */
export function batchWhat(b: BatchJson, commandName: (id: string) => string | undefined): string {
  if (b.commandId) {
    const params = paramsLabel(b.params);
    return `${commandName(b.commandId) ?? b.commandId}${params ? ` (${params})` : ""}`;
  }
  return previewLabel(b.payload);
}
