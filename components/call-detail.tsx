"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { Fragment, useEffect, useLayoutEffect, useRef, useState } from "react";
import { DEFAULT_TIMEOUT_MS, TERMINAL_STATUSES, type CallEvent, type CallJson, type TerminalStatus } from "@/lib/rrpc/types";
import { useCall, useLimits, useSession } from "@/lib/hooks/use-api";
import { curlCommand, tencentSdkSnippet } from "@/lib/rrpc/snippets";
import { CopyButton } from "./copy-button";
import { useLiveSelect } from "@/lib/hooks/use-live";
import { findRow } from "@/lib/hooks/live-store";
import { launcher, useLaunches } from "@/lib/hooks/launcher";
import { draftOf, prefillHref } from "@/lib/hooks/prefill";
import { ErrorAlert } from "./error-alert";
import { StatusBadge } from "./status-badge";
import { CallerText } from "./caller";
import { PayloadView } from "./payload-view";
import { formatMs, noReplyText } from "./call-result";
import { Countdown, useNow } from "./call-card";

const HOP_LABEL: Record<string, string> = {
  requested: "requested",
  published: "published",
  delivered: "delivered",
  replied: "replied",
  foreign_reply: "foreign reply",
  late_reply: "late reply",
  duplicate_reply: "duplicate reply",
};
const EXTRA = new Set(["foreign_reply", "late_reply", "duplicate_reply"]);
const isTerminal = (type: string) => TERMINAL_STATUSES.includes(type as TerminalStatus);

/** The trace of one call: its hops on a time axis, the time each took, both payloads. */
export function CallDetail({ processId }: { processId: string }) {
  const { data, error, mutate } = useCall(processId);
  // The previous call's data is kept while this one loads: never show it under this processId.
  const call = data?.processId === processId ? data : undefined;
  const live = useLiveSelect((s) => findRow(s.rows, processId));
  const refs = useLiveSelect((s) => s.refs);
  const liveKey = live ? `${live.status}|${live.late}|${live.duplicate}|${live.foreign}` : "";
  useEffect(() => {
    if (liveKey) void mutate();
  }, [liveKey, mutate]);
  // A call this tab made: its Cancel, and its elapsed time from when it was sent.
  const launches = useLaunches();
  const launch = launches.find((l) => refs.get(l.clientRef) === processId || l.outcome?.call?.processId === processId);
  const pending = call?.status === "pending" && (!live || live.status === "pending");
  const now = useNow(pending);

  if (error) {
    return error.status === 404 ? (
      <p role="alert" className="text-rose-700 dark:text-rose-300">
        No call with processId {processId}.
      </p>
    ) : (
      <ErrorAlert error={error} prefix={`Cannot load call ${processId}`} />
    );
  }
  if (!call) return <p className="text-zinc-500 dark:text-zinc-400">Loading call {processId}…</p>;

  return (
    <article className="space-y-6" aria-labelledby="call-title">
      <header className="flex flex-wrap items-center gap-3">
        <h1 id="call-title" className="font-mono text-lg font-semibold">
          Call {call.processId}
        </h1>
        <StatusBadge status={call.status} />
        <span className="min-w-0 text-sm text-zinc-600 wrap-anywhere dark:text-zinc-400">
          {call.productId}/{call.deviceName} · {new Date(call.startedAt).toLocaleString()} · timeout {call.timeoutMs} ms · RTT{" "}
          <span data-testid="detail-rtt">{formatMs(call.rttMs)}</span>
        </span>
        <SendAgain key={call.processId} call={call} />
      </header>
      <MadeBy call={call} />
      {pending && (
        <section aria-label="Pending" className="space-y-2 rounded-lg border border-sky-200 p-3 dark:border-sky-900" data-testid="detail-pending">
          <Countdown startedAt={launch?.sentAt ?? Date.parse(call.startedAt)} timeoutMs={call.timeoutMs} now={now} />
          {launch && !launch.cancelled && !launch.outcome && (
            <button
              type="button"
              onClick={() => launcher.cancel(launch.clientRef)}
              className="rounded border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:hover:bg-zinc-800"
            >
              Cancel
            </button>
          )}
          {launch?.cancelled && (
            <p className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="cancelled-note">
              You stopped waiting. The call itself goes on at the hub until its outcome, which is recorded here.
            </p>
          )}
        </section>
      )}
      <Trace events={call.events} timeoutMs={call.timeoutMs} />
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <PayloadView payload={call.request} label="Request" />
        {call.reply ? (
          <PayloadView payload={call.reply} label="Reply" />
        ) : (
          <p className="text-sm text-zinc-500 dark:text-zinc-400">{noReplyText(call)}</p>
        )}
      </div>
      {call.events
        .filter((e) => e.type === "late_reply" || e.type === "duplicate_reply")
        .map((e, i) =>
          typeof e.detail?.payloadBase64 === "string" ? (
            <PayloadView
              key={i}
              payload={{ payloadBase64: e.detail.payloadBase64, ...textOf(e.detail.payloadBase64) }}
              label={`${HOP_LABEL[e.type]} at ${formatMs(e.t)}`}
            />
          ) : null,
        )}
      <RepeatCall call={call} />
    </article>
  );
}

/** Who made the call, and the batch and saved command it came from, when it did. */
function MadeBy({ call }: { call: CallJson }) {
  if (!call.caller && !call.batchId && !call.commandId) return null;
  return (
    <dl className="flex flex-wrap gap-x-6 gap-y-1 text-sm" data-testid="made-by">
      {call.caller && (
        <div className="flex min-w-0 gap-2">
          <dt className="text-zinc-600 dark:text-zinc-400">Made by</dt>
          <dd className="min-w-0 wrap-anywhere">
            <CallerText caller={call.caller} />
          </dd>
        </div>
      )}
      {call.batchId && (
        <div className="flex min-w-0 gap-2">
          <dt className="text-zinc-600 dark:text-zinc-400">Batch</dt>
          <dd className="min-w-0 font-mono wrap-anywhere">
            <Link className="underline" href={`/batches/${encodeURIComponent(call.batchId)}`}>
              {call.batchId}
            </Link>
          </dd>
        </div>
      )}
      {call.commandId && (
        <div className="flex min-w-0 gap-2">
          <dt className="text-zinc-600 dark:text-zinc-400">Command</dt>
          <dd className="min-w-0 font-mono wrap-anywhere">
            <Link className="underline" href={`/commands/${encodeURIComponent(call.commandId)}`}>
              {call.commandId}
            </Link>
          </dd>
        </div>
      )}
    </dl>
  );
}

/** The request that would repeat this call, to copy: curl of the native API, Tencent's Node SDK (lib/rrpc/snippets.ts). */
function RepeatCall({ call }: { call: CallJson }) {
  const { data: session } = useSession();
  const { data: limits } = useLimits();
  // Drawn only once the call has loaded, in the browser.
  const origin = typeof window === "undefined" ? "" : window.location.origin;
  const curl = curlCommand(call, { origin, signIn: session?.required ?? false });
  const sdk = tencentSdkSnippet(call, { origin, defaultTimeoutMs: limits?.defaultTimeoutMs });
  return (
    <section aria-labelledby="repeat-title" className="space-y-2">
      <div className="flex flex-wrap items-center gap-2">
        <h2 id="repeat-title" className="mr-2 text-base font-semibold">
          Repeat this call
        </h2>
        <CopyButton text={curl} label="Copy as curl">
          Copy as curl
        </CopyButton>
        <CopyButton text={sdk} label="Copy as Tencent SDK call">
          Copy as Tencent SDK call
        </CopyButton>
      </div>
      <details className="text-sm">
        <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">Show the code</summary>
        <pre data-testid="repeat-curl" className="mt-2 overflow-x-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900">
          {curl}
        </pre>
        <pre data-testid="repeat-sdk" className="mt-2 overflow-x-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900">
          {sdk}
        </pre>
      </details>
    </section>
  );
}

function textOf(b64: string): { payloadText?: string } {
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return { payloadText: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return {};
  }
}

function Trace({ events, timeoutMs }: { events: CallEvent[]; timeoutMs: number }) {
  const end = Math.max(...events.map((e) => e.t), 0.001);
  return (
    <section aria-labelledby="trace-title" className="space-y-3">
      <h2 id="trace-title" className="text-base font-semibold">
        Trace
      </h2>
      <TraceAxis events={events} end={end} deadline={end < timeoutMs * 2 && events.some((e) => e.type === "timeout") ? timeoutMs : null} />
      {/* The same hops as text, with the time between them: what screen readers read. */}
      <ol className="flex flex-wrap items-stretch gap-2" data-testid="trace">
        {events.map((e, i) => {
          const prev = i > 0 ? events[i - 1]! : null;
          const terminal = isTerminal(e.type);
          return (
            <li key={i} data-event={e.type} className="flex max-w-full items-center gap-2">
              {prev && (
                <span aria-label={`then ${formatMs(e.t - prev.t)}`} className="whitespace-nowrap text-xs text-zinc-500 dark:text-zinc-400">
                  → {formatMs(e.t - prev.t)} →
                </span>
              )}
              <span
                className={`min-w-0 rounded border px-2 py-1 text-sm wrap-anywhere ${EXTRA.has(e.type) ? "border-amber-400" : terminal ? "border-zinc-900 font-medium dark:border-zinc-100" : "border-zinc-300 dark:border-zinc-700"}`}
              >
                {terminal ? `answered: ${e.type}` : HOP_LABEL[e.type]}
                <span className="ml-1 font-mono text-xs text-zinc-500 dark:text-zinc-400">+{formatMs(e.t)}</span>
                {e.detail?.productId !== undefined && (
                  <span className="ml-1 text-xs text-zinc-500 dark:text-zinc-400">
                    from {String(e.detail.productId)}/{String(e.detail.deviceName)}
                  </span>
                )}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** Where a label of the axis goes: its tick's x, its left edge, and its lane (row) under the bar; all in px. */
export type AxisSlot = { x: number; left: number; lane: number };

/**
 * Places the axis's labels under their ticks without overlap: each label is centred on its
 * tick, kept inside the axis, and put in the first lane (row) where it clears the labels
 * already there by `gap` px; a label that fits nowhere opens a new lane below.
 */
export function placeAxisLabels(fractions: number[], widths: number[], width: number, inset = 2, gap = 8): AxisSlot[] {
  const laneEnds: number[] = [];
  return fractions.map((f, i) => {
    const w = widths[i] ?? 0;
    const x = inset + Math.min(Math.max(f, 0), 1) * Math.max(0, width - 2 * inset);
    const left = Math.max(0, Math.min(x - w / 2, width - w));
    let lane = laneEnds.findIndex((e) => e + gap <= left);
    if (lane === -1) lane = laneEnds.push(-Infinity) - 1;
    laneEnds[lane] = left + w;
    return { x, left, lane };
  });
}

const TICK_PX = 6;

/**
 * The trace on a time axis: a mark per hop on the bar, and below it a labelled tick per hop
 * (name and time since the request), in lanes so labels never overlap, whatever the width.
 * Hidden from screen readers: the list after it says the same.
 */
function TraceAxis({ events, end, deadline }: { events: CallEvent[]; end: number; deadline: number | null }) {
  const box = useRef<HTMLDivElement>(null);
  const labels = useRef<(HTMLSpanElement | null)[]>([]);
  const [layout, setLayout] = useState<{ slots: AxisSlot[]; lane: number } | null>(null);
  const inset = 2;
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const place = () => {
      const widths = events.map((_, i) => labels.current[i]?.offsetWidth ?? 0);
      const lane = Math.max(0, ...events.map((_, i) => labels.current[i]?.offsetHeight ?? 0)) + 4;
      setLayout({
        slots: placeAxisLabels(
          events.map((e) => e.t / end),
          widths,
          el.clientWidth,
          inset,
        ),
        lane,
      });
    };
    place();
    const watch = new ResizeObserver(place);
    watch.observe(el);
    return () => watch.disconnect();
  }, [events, end]);
  const lanes = layout ? Math.max(1, ...layout.slots.map((s) => s.lane + 1)) : 1;
  return (
    <div aria-hidden data-testid="trace-axis">
      <div className="relative h-8 rounded bg-zinc-100 dark:bg-zinc-900">
        {events.map((e, i) => (
          <span
            key={i}
            className={`absolute top-1 h-6 w-1 rounded ${EXTRA.has(e.type) ? "bg-amber-500" : isTerminal(e.type) ? "bg-zinc-900 dark:bg-zinc-100" : "bg-sky-600"}`}
            style={{ left: `calc(${inset}px + ${Math.min(e.t / end, 1)} * (100% - ${2 * inset}px) - 2px)` }}
            title={`${e.type} +${formatMs(e.t)}`}
          />
        ))}
        {deadline !== null && <span className="absolute right-1 top-1 text-xs text-zinc-600 dark:text-zinc-400">deadline {deadline} ms</span>}
      </div>
      <div ref={box} className="relative" style={{ height: layout ? TICK_PX + lanes * layout.lane : TICK_PX + 32 }}>
        {events.map((e, i) => {
          const slot = layout?.slots[i];
          return (
            <Fragment key={i}>
              {slot && (
                <span
                  className="absolute top-0 w-px bg-zinc-400 dark:bg-zinc-500"
                  style={{ left: slot.x - 0.5, height: TICK_PX + slot.lane * layout!.lane + 2 }}
                />
              )}
              <span
                ref={(el) => {
                  labels.current[i] = el;
                }}
                data-axis-label={e.type}
                className="absolute z-10 whitespace-nowrap bg-white px-1 text-xs leading-tight dark:bg-zinc-950"
                style={slot ? { left: slot.left, top: TICK_PX + slot.lane * layout!.lane } : { left: 0, top: TICK_PX, visibility: "hidden" }}
              >
                <span className={`block ${isTerminal(e.type) ? "font-semibold" : "font-medium"}`}>
                  {HOP_LABEL[e.type] ?? e.type.replaceAll("_", " ")}
                </span>
                <span className="block font-mono text-zinc-600 dark:text-zinc-400">+{formatMs(e.t)}</span>
              </span>
            </Fragment>
          );
        })}
      </div>
    </div>
  );
}

/**
 * Send again: a new call with this one's request, whose page opens as soon as the hub has given it
 * a processId (it shows pending there). Edit & resend: the console with this request in its form.
 */
function SendAgain({ call }: { call: CallJson }) {
  const router = useRouter();
  const { data: limits } = useLimits();
  const launches = useLaunches();
  const [ref, setRef] = useState<string | null>(null);
  const launch = ref ? launches.find((l) => l.clientRef === ref) : undefined;
  const allocated = useLiveSelect((s) => (ref ? s.refs.get(ref) : undefined));
  const next = allocated ?? launch?.outcome?.call?.processId;
  useEffect(() => {
    if (next) router.push(`/calls/${next}`);
  }, [next, router]);
  const failed = launch?.outcome && !launch.outcome.call ? launch.outcome.error : undefined;
  const starting = ref !== null && !next && !failed;
  return (
    <div className="ml-auto flex items-center gap-2">
      {failed && (
        <span role="alert" className="text-sm text-rose-700 dark:text-rose-300">
          Send again failed: <span className="font-mono">{failed.code}</span>: {failed.message}
        </span>
      )}
      <Link href="/" className="text-sm underline">
        Console
      </Link>
      <button
        type="button"
        onClick={() => router.push(prefillHref(draftOf(call)))}
        className="rounded border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:hover:bg-zinc-800"
      >
        Edit &amp; resend
      </button>
      <button
        type="button"
        disabled={starting}
        onClick={() => setRef(launcher.again(call, limits?.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS).clientRef)}
        className="rounded bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
      >
        {starting ? "Starting…" : "Send again"}
      </button>
    </div>
  );
}
