"use client";
import { DataTable, EmptyRow, callColumns } from "./data-table";
import Link from "next/link";
import { useId, useState } from "react";
import { useRouter } from "next/navigation";
import { CALLER_KINDS, CALL_STATUSES, type CallStatus, type CallerKind } from "@/lib/rrpc/types";
import type { CallsFilter } from "@/lib/rrpc/api";
import { callsQuery, useCallCount, useCallPages } from "@/lib/hooks/use-api";
import { useLiveSelect } from "@/lib/hooks/use-live";
import { compareProcessIds, type LiveRow } from "@/lib/hooks/live-store";
import { ErrorAlert } from "./error-alert";
import { LabeledInput } from "./labeled-input";
import { StatusBadge } from "./status-badge";
import { formatMs } from "./call-result";
import { CALLER_KIND_LABELS, CallerText } from "./caller";

const field = "w-full rounded border border-zinc-300 bg-white px-2 py-1 text-sm sm:w-auto dark:border-zinc-700 dark:bg-zinc-900";

/** datetime-local gives local time without a zone: send it as an ISO instant. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An ISO instant as the datetime-local input shows it (local time, to the second). */
function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time to the millisecond: calls a few ms apart must read apart. */
const STARTED_FORMAT: Intl.DateTimeFormatOptions = {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
};

/** Whether a live row is a call the history's filter would list (the same rules as the API's). */
function matches(r: LiveRow, f: CallsFilter): boolean {
  const starts = (value: string, prefix: string | undefined) => !prefix || value.toLowerCase().startsWith(prefix.toLowerCase());
  if (f.productId && r.productId !== f.productId) return false;
  if (f.deviceName && r.deviceName !== f.deviceName) return false;
  if (!starts(r.productId, f.productIdPrefix) || !starts(r.deviceName, f.deviceNamePrefix)) return false;
  if (f.status && r.status !== f.status) return false;
  if (f.callerKind && r.caller?.kind !== f.callerKind) return false;
  if (f.callerId && r.caller?.id !== f.callerId) return false;
  if (f.from && r.at < Date.parse(f.from)) return false;
  if (f.to && r.at > Date.parse(f.to)) return false;
  return true;
}

/** Calls the live view saw after `newest` that match the filter: the hub's calls only (the history has no others). */
function countNew(rows: readonly LiveRow[], newest: string | undefined, f: CallsFilter): number {
  let n = 0;
  for (const r of rows) {
    if (newest !== undefined && compareProcessIds(r.processId, newest) <= 0) break;
    if (r.viaHub && matches(r, f)) n++;
  }
  return n;
}

export function History({ initial }: { initial: CallsFilter }) {
  const router = useRouter();
  const [form, setForm] = useState({
    // A link to one device's history (exact ids) shows them here; applied, they become prefixes.
    productId: initial.productIdPrefix ?? initial.productId ?? "",
    deviceName: initial.deviceNamePrefix ?? initial.deviceName ?? "",
    status: initial.status ?? "",
    callerKind: initial.callerKind ?? "",
    callerId: initial.callerId ?? "",
    from: toLocalInput(initial.from),
    to: toLocalInput(initial.to),
  });
  const filter = initial;
  const { data, error, size, setSize, isValidating, mutate } = useCallPages(filter);
  const { data: count, mutate: recount } = useCallCount(filter);
  const calls = data?.flatMap((p) => p.calls) ?? [];
  const hasMore = data ? data.at(-1)?.nextBefore !== null : false;
  const statusId = useId();
  const callerKindId = useId();
  const matchHelp = useId();
  const exportQuery = callsQuery(filter);
  // New calls arrive live; the list is not reshuffled under the operator's eyes: a bar offers them.
  const newest = calls[0]?.processId;
  // Cheap: rows are newest first, the count stops at the newest call listed; a re-render only when it changes.
  const fresh = useLiveSelect((s) => (data ? countNew(s.rows, newest, filter) : 0));

  return (
    <section aria-labelledby="history-title" className="space-y-4">
      <h1 id="history-title" className="text-lg font-semibold">
        History
      </h1>
      <form
        aria-label="History filters"
        className="flex flex-wrap items-end gap-3 max-sm:[&>div]:w-full"
        onSubmit={(e) => {
          e.preventDefault();
          const next = callsQuery({
            productIdPrefix: form.productId.trim() || undefined,
            deviceNamePrefix: form.deviceName.trim() || undefined,
            status: (form.status || undefined) as CallStatus | undefined,
            callerKind: (form.callerKind || undefined) as CallerKind | undefined,
            callerId: form.callerId.trim() || undefined,
            from: toIso(form.from),
            to: toIso(form.to),
          });
          router.push(next ? `/history?${next}` : "/history");
        }}
      >
        <LabeledInput
          label="Product ID starts with"
          className={field}
          value={form.productId}
          onChange={(e) => setForm({ ...form, productId: e.target.value })}
          aria-describedby={matchHelp}
        />
        <LabeledInput
          label="Device starts with"
          className={field}
          value={form.deviceName}
          onChange={(e) => setForm({ ...form, deviceName: e.target.value })}
          aria-describedby={matchHelp}
        />
        <div>
          <label htmlFor={statusId} className="mb-1 block text-xs font-medium">
            Status
          </label>
          <select
            id={statusId}
            className={field}
            value={form.status}
            onChange={(e) => setForm({ ...form, status: e.target.value as CallStatus | "" })}
          >
            <option value="">Any</option>
            {CALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={callerKindId} className="mb-1 block text-xs font-medium">
            Made by
          </label>
          <select
            id={callerKindId}
            className={field}
            value={form.callerKind}
            onChange={(e) => setForm({ ...form, callerKind: e.target.value as CallerKind | "" })}
          >
            <option value="">Anyone</option>
            {CALLER_KINDS.map((k) => (
              <option key={k} value={k}>
                {CALLER_KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </div>
        <LabeledInput
          label="Caller id"
          className={field}
          value={form.callerId}
          onChange={(e) => setForm({ ...form, callerId: e.target.value })}
          placeholder="user, key or batch id"
        />
        <LabeledInput
          label="From"
          type="datetime-local"
          step={1}
          className={field}
          value={form.from}
          onChange={(e) => setForm({ ...form, from: e.target.value })}
        />
        <LabeledInput
          label="To"
          type="datetime-local"
          step={1}
          className={field}
          value={form.to}
          onChange={(e) => setForm({ ...form, to: e.target.value })}
        />
        <button
          type="submit"
          className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600"
        >
          Apply filters
        </button>
        <button
          type="button"
          onClick={() => void Promise.all([mutate(), recount()])}
          className="rounded border border-zinc-300 px-3 py-1.5 text-sm dark:border-zinc-700"
        >
          Refresh
        </button>
        <span className="ml-auto flex gap-2 text-sm">
          <a
            className="rounded border border-zinc-300 px-3 py-1.5 dark:border-zinc-700"
            href={`/api/calls/export?${callsQuery(filter, { format: "csv" })}`}
            download
          >
            Export CSV
          </a>
          <a
            className="rounded border border-zinc-300 px-3 py-1.5 dark:border-zinc-700"
            href={`/api/calls/export?${callsQuery(filter, { format: "json" })}`}
            download
            data-query={exportQuery}
          >
            Export JSON
          </a>
        </span>
      </form>
      <p id={matchHelp} className="text-xs text-zinc-500 dark:text-zinc-400">
        Product and device match the start of the id, in any case: “kit” finds Kitchen1 and kit-2.
      </p>
      <ErrorAlert error={error} prefix="Cannot load history" />
      <div aria-live="polite">
        {fresh > 0 && (
          <button
            type="button"
            data-testid="history-new"
            onClick={() => void Promise.all([mutate(), recount()])}
            className="w-full rounded border border-sky-300 bg-sky-50 px-3 py-1.5 text-sm text-sky-900 hover:bg-sky-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100 dark:hover:bg-sky-900"
          >
            {fresh} new — show
          </button>
        )}
      </div>
      <DataTable columns={callColumns("Started", { by: true })} label="Calls" data-testid="history">
        {calls.map((c) => (
          <tr key={c.processId} data-process-id={c.processId} className="border-t border-zinc-100 dark:border-zinc-800">
            <td className="whitespace-nowrap px-2 py-1 text-xs text-zinc-500 dark:text-zinc-400">
              {new Date(c.startedAt).toLocaleString(undefined, STARTED_FORMAT)}
            </td>
            <td className="px-2 py-1 font-mono text-xs">
              <Link className="underline" href={`/calls/${c.processId}`}>
                {c.processId}
              </Link>
            </td>
            <td className="min-w-40 max-w-64 px-2 py-1 wrap-anywhere">
              {c.productId}/{c.deviceName}
            </td>
            <td className="min-w-28 max-w-48 px-2 py-1 text-xs wrap-anywhere">
              <CallerText caller={c.caller} />
            </td>
            <td className="max-w-48 truncate px-2 py-1 font-mono text-xs">{c.request.payloadText ?? `base64:${c.request.payloadBase64}`}</td>
            <td className="max-w-48 truncate px-2 py-1 font-mono text-xs">
              {c.reply ? (c.reply.payloadText ?? `base64:${c.reply.payloadBase64}`) : ""}
            </td>
            <td className="px-2 py-1">
              <StatusBadge status={c.status} />
            </td>
            <td className="whitespace-nowrap px-2 py-1 text-right font-mono text-xs">{formatMs(c.rttMs)}</td>
          </tr>
        ))}
        {data && calls.length === 0 && <EmptyRow columns={8}>No calls match these filters.</EmptyRow>}
      </DataTable>
      <div className="flex items-center gap-3 text-sm">
        <span className="text-zinc-500 dark:text-zinc-400" data-testid="history-count">
          {count
            ? `${count.total} ${count.total === 1 ? "call matches" : "calls match"} these filters; ${calls.length} shown`
            : `${calls.length} calls shown`}
        </span>
        {hasMore && (
          <button
            type="button"
            disabled={isValidating}
            onClick={() => void setSize(size + 1)}
            className="rounded border border-zinc-300 px-3 py-1.5 dark:border-zinc-700"
          >
            {isValidating ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </section>
  );
}
