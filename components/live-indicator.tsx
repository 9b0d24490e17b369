"use client";
import { useLive } from "@/lib/hooks/use-live";

const LABEL = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  unavailable: "Live view unavailable",
} as const;

export function LiveIndicator() {
  const { connection } = useLive();
  const color =
    connection.state === "connected"
      ? "bg-emerald-500"
      : connection.state === "reconnecting" || connection.state === "connecting"
        ? "bg-amber-500 animate-pulse"
        : "bg-rose-500";
  return (
    <span
      role="status"
      aria-live="polite"
      data-testid="live-indicator"
      data-state={connection.state}
      className="inline-flex items-center gap-1.5 text-xs"
      title={connection.error}
    >
      <span aria-hidden className={`inline-block h-2 w-2 rounded-full ${color}`} />
      {LABEL[connection.state]}
      {connection.reconnects > 0 && <span className="text-zinc-500 dark:text-zinc-400">({connection.reconnects} reconnects)</span>}
    </span>
  );
}
