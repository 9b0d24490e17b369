import Link from "next/link";
import type { ApiErrorBody } from "@/lib/rrpc/api";
import { replyOverLimit, type CallJson } from "@/lib/rrpc/types";
import { StatusBadge } from "./status-badge";
import { PayloadView } from "./payload-view";
import { CopyButton } from "./copy-button";

/** A call's outcome: the call when one was made, the error when it failed (both for a failed call). */
export type CallOutcome = { call?: CallJson; error?: ApiErrorBody["error"] };

export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return "—";
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** What stands in for the reply of an ended call that has none. */
export function noReplyText(call: CallJson): string {
  const over = replyOverLimit(call);
  if (over) return `The reply was ${over.bytes} bytes, over the hub's limit of ${over.limit}: not kept.`;
  return call.status === "timeout" ? `No reply within ${call.timeoutMs} ms.` : "No reply.";
}

/** The outcome of a call as the console shows it: it stays until the next call. `children` follow it (late replies…). */
export function CallResult({
  outcome,
  children,
  ...attrs
}: { outcome: CallOutcome; children?: React.ReactNode } & Record<`data-${string}`, string | undefined>) {
  const { call, error } = outcome;
  return (
    <section
      aria-label="Call result"
      data-testid="call-result"
      data-state="done"
      {...attrs}
      className="min-w-0 space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
    >
      <div className="flex flex-wrap items-center gap-3">
        {call ? (
          <StatusBadge status={call.status} />
        ) : (
          <span className="rounded bg-rose-100 px-2 py-0.5 text-xs text-rose-900 dark:bg-rose-900/60 dark:text-rose-100">not sent</span>
        )}
        {call && (
          <>
            <span className="text-sm">
              <span className="text-zinc-500 dark:text-zinc-400">RTT </span>
              <span data-testid="result-rtt">{formatMs(call.rttMs)}</span>
            </span>
            <span className="flex items-center gap-1 text-sm">
              <span className="text-zinc-500 dark:text-zinc-400">processId </span>
              <Link data-testid="result-process-id" className="font-mono underline" href={`/calls/${call.processId}`}>
                {call.processId}
              </Link>
              <CopyButton text={call.processId} label="Copy processId" />
            </span>
            <span className="min-w-0 text-sm text-zinc-500 wrap-anywhere dark:text-zinc-400">
              {call.productId}/{call.deviceName}
            </span>
          </>
        )}
      </div>
      {error && (
        <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">
          <span className="font-mono">{error.code}</span>: {error.message}
          {error.fields?.map((f, i) => (
            <span key={`${f.field}-${i}`} className="block">
              {f.field}: {f.message}
            </span>
          ))}
        </p>
      )}
      {call?.reply && <PayloadView payload={call.reply} label="Reply" />}
      {call && !call.reply && call.status !== "pending" && <p className="text-sm text-zinc-600 dark:text-zinc-400">{noReplyText(call)}</p>}
      {children}
    </section>
  );
}
