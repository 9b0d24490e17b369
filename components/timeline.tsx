"use client";
import { DataTable, EmptyRow, callColumns } from "./data-table";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { memo, useDeferredValue, useId, useMemo, useState } from "react";
import { previewLabel } from "@/lib/rrpc/live";
import { CALL_STATUSES, DEFAULT_TIMEOUT_MS, type CallJson, type CallStatus } from "@/lib/rrpc/types";
import { useBackfill, useLive } from "@/lib/hooks/use-live";
import { compareProcessIds, type LiveRow, type LiveSnapshot } from "@/lib/hooks/live-store";
import { api } from "@/lib/hooks/api-client";
import { KEYS, useLimits } from "@/lib/hooks/use-api";
import { launcher } from "@/lib/hooks/launcher";
import { draftOf, prefillHref } from "@/lib/hooks/prefill";
import { StatusBadge } from "./status-badge";
import { CallerText } from "./caller";
import { formatMs } from "./call-result";
import { ErrorAlert } from "./error-alert";

/** Rows rendered at once; the rest are paged to, not drawn. */
export const WINDOW_ROWS = 200;

function time(at: number) {
  const d = new Date(at);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

/** Index of the first row older than `processId` in rows sorted newest first. */
function firstOlder(rows: readonly LiveRow[], processId: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareProcessIds(rows[mid]!.processId, processId) >= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const buttonCls =
  "rounded border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-600 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800";

/**
 * Every RRPC call crossing the broker, one row per processId: the newest stored calls first, then
 * live. Pausing freezes the view (new calls are counted); filters apply to what is in memory; a
 * window of WINDOW_ROWS rows is drawn, and paging past it reads older calls from the store.
 */
export function Timeline() {
  useBackfill();
  const router = useRouter();
  const { snapshot, loadOlder } = useLive();
  const { data: limits } = useLimits();
  const [paused, setPaused] = useState<LiveSnapshot | null>(null);
  const [device, setDevice] = useState("");
  const [status, setStatus] = useState<CallStatus | "">("");
  /** The window starts after these processIds (a stack: Newer pops), at the newest when empty. */
  const [anchors, setAnchors] = useState<string[]>([]);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [openActions, setOpenActions] = useState<string | null>(null);
  const ids = { device: useId(), status: useId() };

  // Typing stays cheap under a burst: the inputs update at once, the rows when there is time.
  const shown = useDeferredValue(paused ?? snapshot);
  const needle = useDeferredValue(device.trim().toLowerCase());
  const wanted = useDeferredValue(status);
  const filtered = useMemo(() => {
    if (!needle && !wanted) return shown.rows;
    return shown.rows.filter((r) => (!wanted || r.status === wanted) && (!needle || `${r.productId}/${r.deviceName}`.toLowerCase().includes(needle)));
  }, [shown, needle, wanted]);
  const anchor = anchors.at(-1);
  const start = anchor === undefined ? 0 : firstOlder(filtered, anchor);
  const rows = useMemo(() => filtered.slice(start, start + WINDOW_ROWS), [filtered, start]);
  const more = filtered.length - start - rows.length;
  const olderInStore = typeof shown.olderBefore === "string";
  const newSincePause = paused ? snapshot.calls - paused.calls : 0;

  async function older() {
    const last = rows.at(-1);
    if (more < WINDOW_ROWS && olderInStore) {
      // What the store gives joins the live view: a paused one resumes.
      setPaused(null);
      setLoadingOlder(true);
      try {
        await loadOlder();
      } catch (e) {
        setProblem(e);
      } finally {
        setLoadingOlder(false);
      }
    }
    if (last && (more > 0 || olderInStore)) setAnchors((a) => [...a, last.processId]);
  }

  /** Send again / Edit & resend from a row: the whole request is read from the store. */
  async function rowAction(action: string, processId: string) {
    setProblem(null);
    try {
      const call = await api<CallJson>("GET", KEYS.call(processId));
      if (action === "again") launcher.again(call, limits?.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS);
      else router.push(prefillHref(draftOf(call)));
    } catch (e) {
      setProblem(e);
    }
  }

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
            onChange={(e) => {
              setDevice(e.target.value);
              setAnchors([]);
            }}
            className="w-40 rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
          <label htmlFor={ids.status} className="sr-only">
            Filter by status
          </label>
          <select
            id={ids.status}
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as CallStatus | "");
              setAnchors([]);
            }}
            className="rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">All statuses</option>
            {CALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button type="button" aria-pressed={paused !== null} onClick={() => setPaused(paused ? null : snapshot)} className={buttonCls}>
            {paused ? `Resume${newSincePause ? ` (${newSincePause} new)` : ""}` : "Pause"}
          </button>
        </div>
      </div>
      <ErrorAlert error={problem} prefix="Timeline" />
      <div
        onClick={(e) => {
          const b = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
          const id = b?.dataset.processId;
          if (!id) return;
          if (b.dataset.action === "menu") setOpenActions((o) => (o === id ? null : id));
          else {
            setOpenActions(null);
            void rowAction(b.dataset.action!, id);
          }
        }}
      >
        <WindowTable rows={rows} messages={snapshot.messages} calls={snapshot.calls} open={openActions} />
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <p className="text-xs text-zinc-500 dark:text-zinc-400" data-testid="timeline-more">
          {start > 0 && `${start} newer above. `}
          {more > 0 && `${more} more not shown. `}
          {more <= 0 && olderInStore && "Older calls are in the store. "}
          {shown.dropped > 0 && `${shown.dropped} older calls left memory (paging back reads them again). `}
          {paused && "Paused."}
        </p>
        <span className="ml-auto flex gap-2">
          {anchors.length > 0 && (
            <>
              <button type="button" className={buttonCls} onClick={() => setAnchors([])}>
                Newest
              </button>
              <button type="button" className={buttonCls} onClick={() => setAnchors((a) => a.slice(0, -1))}>
                Newer
              </button>
            </>
          )}
          {(more > 0 || olderInStore) && (
            <button type="button" className={buttonCls} disabled={loadingOlder} onClick={() => void older()}>
              {loadingOlder ? "Loading…" : "Older"}
            </button>
          )}
        </span>
      </div>
    </section>
  );
}

/** The window of rows: re-rendered only when its rows change; unchanged rows are not re-rendered at all. */
const WindowTable = memo(function WindowTable({
  rows,
  messages,
  calls,
  open,
}: {
  rows: readonly LiveRow[];
  messages: number;
  calls: number;
  /** The row whose actions are shown. */
  open: string | null;
}) {
  return (
    <DataTable columns={callColumns("Time")} data-testid="timeline" data-messages={messages} data-calls={calls}>
      {rows.map((r) => (
        <Row key={r.processId} r={r} open={open === r.processId} />
      ))}
      {rows.length === 0 && (
        <EmptyRow columns={7}>No calls yet. Calls from this page, the HTTP API or any MQTT client appear here as they happen.</EmptyRow>
      )}
    </DataTable>
  );
});

const actionCls =
  "ml-1 rounded px-1 text-xs text-sky-800 hover:bg-sky-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:text-sky-300 dark:hover:bg-sky-900";

const Row = memo(function Row({ r, open }: { r: LiveRow; open: boolean }) {
  return (
    <tr data-process-id={r.processId} data-status={r.status} className="border-t border-zinc-100 dark:border-zinc-800">
      <td className="whitespace-nowrap px-2 py-1 font-mono text-xs text-zinc-500 dark:text-zinc-400">{time(r.at)}</td>
      <td className="whitespace-nowrap px-2 py-1 font-mono text-xs">
        {r.viaHub ? (
          <>
            <Link className="underline" href={`/calls/${r.processId}`}>
              {r.processId}
            </Link>
            <button
              type="button"
              data-action="menu"
              data-process-id={r.processId}
              aria-expanded={open}
              aria-label={`Actions for ${r.processId}`}
              title="Send again, Edit & resend"
              className={actionCls}
            >
              ⋯
            </button>
            {open && (
              <span className="ml-1 inline-flex gap-1" data-testid="row-actions">
                <button type="button" data-action="again" data-process-id={r.processId} className={actionCls}>
                  Send again
                </button>
                <button type="button" data-action="edit" data-process-id={r.processId} className={actionCls}>
                  Edit &amp; resend
                </button>
              </span>
            )}
          </>
        ) : (
          r.processId
        )}
      </td>
      <td className="min-w-40 max-w-64 px-2 py-1 wrap-anywhere">
        {r.productId}/{r.deviceName}
        {r.caller && (
          <span className="block text-xs text-zinc-600 dark:text-zinc-400">
            by <CallerText caller={r.caller} />
          </span>
        )}
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
