"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import { launcher, type Launch } from "@/lib/hooks/launcher";
import { useLiveSelect } from "@/lib/hooks/use-live";
import { findRow, type LiveRow } from "@/lib/hooks/live-store";
import { useCall } from "@/lib/hooks/use-api";
import type { CallEvent } from "@/lib/rrpc/types";
import { base64ToBytes, strictUtf8 } from "@/lib/rrpc/payload";
import { CallResult, formatMs } from "./call-result";
import { StatusBadge } from "./status-badge";
import { CopyButton } from "./copy-button";

/** Epoch ms, ticking every `ms` while `active`. */
export function useNow(active: boolean, ms = 100): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

const seconds = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;

/** Time since the call started against its deadline: elapsed, what is left, and a bar. */
export function Countdown({ startedAt, timeoutMs, now }: { startedAt: number; timeoutMs: number; now: number }) {
  const elapsed = Math.max(0, now - startedAt);
  const left = timeoutMs - elapsed;
  return (
    <div className="space-y-1" data-testid="countdown">
      <p className="text-sm">
        <span className="text-zinc-500 dark:text-zinc-400">Elapsed </span>
        <span className="font-mono" data-testid="pending-elapsed">
          {seconds(elapsed)}
        </span>
        <span className="text-zinc-500 dark:text-zinc-400"> of the </span>
        <span className="font-mono" data-testid="pending-deadline">
          {seconds(timeoutMs)}
        </span>
        <span className="text-zinc-500 dark:text-zinc-400"> deadline · </span>
        <span data-testid="pending-left">{left > 0 ? `${seconds(left)} left` : "deadline passed, the hub is answering"}</span>
      </p>
      <div
        role="progressbar"
        aria-label="Time until the deadline"
        aria-valuemin={0}
        aria-valuemax={timeoutMs}
        aria-valuenow={Math.min(Math.round(elapsed), timeoutMs)}
        className="h-1.5 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800"
      >
        <div className="h-full bg-sky-600 transition-[width] duration-100" style={{ width: `${Math.min(100, (elapsed / timeoutMs) * 100)}%` }} />
      </div>
    </div>
  );
}

const EXTRA_LABEL: Partial<Record<CallEvent["type"], string>> = { late_reply: "Late reply", duplicate_reply: "Duplicate reply" };

/** Replies that came after the call ended, as its stored trace has them (re-read when the live view sees one). */
export function ExtraReplies({ processId, row }: { processId: string; row: LiveRow }) {
  const { data: call, mutate } = useCall(processId);
  const key = `${row.late}|${row.duplicate}`;
  useEffect(() => {
    void mutate();
  }, [key, mutate]);
  const extra = call?.events.filter((e) => e.type === "late_reply" || e.type === "duplicate_reply") ?? [];
  return (
    <div className="space-y-1" data-testid="extra-replies">
      <p className="text-sm font-medium text-amber-800 dark:text-amber-300">
        {row.late && "The device answered after the call ended. "}
        {row.duplicate && "The device answered more than once."}
      </p>
      {extra.length > 0 && (
        <ul className="space-y-1 text-sm">
          {extra.map((e, i) => {
            const b64 = typeof e.detail?.payloadBase64 === "string" ? e.detail.payloadBase64 : undefined;
            const text = b64 !== undefined ? strictUtf8(base64ToBytes(b64)) : undefined;
            return (
              <li key={i} data-event={e.type} className="font-mono text-xs">
                {EXTRA_LABEL[e.type]} at +{formatMs(e.t)}:{" "}
                <span data-testid="extra-reply-payload">
                  {text ?? (b64 !== undefined ? `base64:${b64}` : `${String(e.detail?.bytes ?? "?")} bytes, not kept`)}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/**
 * A call this console made, from the moment it is sent: pending with its processId (from the live
 * feed, before the answer), elapsed time against the deadline and Cancel; then its outcome, and any
 * reply that comes after it.
 */
export function CallCard({ launch }: { launch: Launch }) {
  const allocated = useLiveSelect((s) => s.refs.get(launch.clientRef));
  const processId = launch.outcome?.call?.processId ?? allocated;
  const row = useLiveSelect((s) => (processId ? findRow(s.rows, processId) : undefined));
  const state = launch.outcome ? "done" : launch.cancelled ? "cancelled" : "pending";
  const now = useNow(state === "pending");
  const extra = row && processId && (row.late || row.duplicate) ? <ExtraReplies processId={processId} row={row} /> : null;

  if (launch.outcome) {
    return (
      <CallResult outcome={launch.outcome} data-client-ref={launch.clientRef} data-process-id={processId}>
        {extra}
      </CallResult>
    );
  }

  const status = row?.status ?? "pending";
  return (
    <section
      aria-label="Call result"
      data-testid="call-result"
      data-state={state}
      data-client-ref={launch.clientRef}
      data-process-id={processId}
      className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
    >
      <div className="flex flex-wrap items-center gap-3">
        <StatusBadge status={status} />
        <span className="flex items-center gap-1 text-sm">
          <span className="text-zinc-500 dark:text-zinc-400">processId </span>
          {processId ? (
            <>
              <Link data-testid="result-process-id" className="font-mono underline" href={`/calls/${processId}`}>
                {processId}
              </Link>
              <CopyButton text={processId} label="Copy processId" />
            </>
          ) : (
            <span className="text-zinc-500 dark:text-zinc-400">being allocated…</span>
          )}
        </span>
        <span className="text-sm text-zinc-500 dark:text-zinc-400">
          {launch.productId}/{launch.deviceName}
        </span>
        {state === "pending" ? (
          <button
            type="button"
            onClick={() => launcher.cancel(launch.clientRef)}
            className="ml-auto rounded border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Cancel
          </button>
        ) : (
          <button
            type="button"
            onClick={() => launcher.dismiss(launch.clientRef)}
            className="ml-auto rounded border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Dismiss
          </button>
        )}
      </div>
      {state === "pending" && status === "pending" && <Countdown startedAt={launch.sentAt} timeoutMs={launch.timeoutMs} now={now} />}
      {state === "cancelled" && (
        <p className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="cancelled-note">
          You stopped waiting. The call itself goes on at the hub until its outcome, which is recorded
          {processId ? (
            <>
              {" "}
              on{" "}
              <Link className="underline" href={`/calls/${processId}`}>
                its page
              </Link>
            </>
          ) : (
            " in History"
          )}
          {status !== "pending" ? (
            <>
              {" "}
              — it ended {status.replaceAll("_", " ")}
              {row?.rttMs !== undefined ? ` after ${formatMs(row.rttMs)}` : ""}.
            </>
          ) : (
            "."
          )}
        </p>
      )}
      {extra}
    </section>
  );
}
