import type { CallStatus } from "@/lib/rrpc/types";

const STYLES: Record<CallStatus, string> = {
  pending: "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
  success: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
  timeout: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
  reply_too_large: "bg-fuchsia-100 text-fuchsia-900 dark:bg-fuchsia-900/60 dark:text-fuchsia-100",
  offline: "bg-zinc-200 text-zinc-900 dark:bg-zinc-700 dark:text-zinc-100",
  not_subscribed: "bg-zinc-200 text-zinc-900 dark:bg-zinc-700 dark:text-zinc-100",
  broker_unavailable: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
  busy: "bg-orange-100 text-orange-900 dark:bg-orange-900/60 dark:text-orange-100",
  interrupted: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
};

export function StatusBadge({ status }: { status: CallStatus }) {
  return (
    <span data-status={status} className={`inline-flex items-center rounded px-2 py-0.5 text-xs font-medium ${STYLES[status]}`}>
      {status === "pending" && <span aria-hidden className="mr-1 inline-block h-1.5 w-1.5 animate-pulse rounded-full bg-current" />}
      {status.replaceAll("_", " ")}
    </span>
  );
}

export function OnlineDot({ online, showLabel = false }: { online: boolean | null | undefined; showLabel?: boolean }) {
  const text = online === true ? "online" : online === false ? "offline" : "unknown";
  return (
    <span className="inline-flex items-center gap-1" title={text} data-online={text}>
      <span
        aria-hidden
        className={`inline-block h-2 w-2 rounded-full ${online ? "bg-emerald-500" : online === false ? "bg-zinc-400" : "bg-zinc-300 dark:bg-zinc-600"}`}
      />
      <span className={showLabel ? "text-xs font-normal text-zinc-600 dark:text-zinc-400" : "sr-only"}>{text}</span>
    </span>
  );
}
