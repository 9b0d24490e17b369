"use client";
import { useState } from "react";

export type ConsoleMode = "payload" | "command";

/**
 * The console sends either a payload written here or a saved command with its parameters. The
 * payload form stays mounted (hidden) while a command is chosen, so its draft survives a switch.
 */
export function ConsoleModes({
  payloadForm,
  commandRunner,
  initialMode = "payload",
}: {
  payloadForm: React.ReactNode;
  commandRunner: React.ReactNode;
  initialMode?: ConsoleMode;
}) {
  const [mode, setMode] = useState<ConsoleMode>(initialMode);
  const tab = (m: ConsoleMode, label: string) => (
    <button
      type="button"
      aria-pressed={mode === m}
      onClick={() => setMode(m)}
      className={`px-3 py-1 text-sm focus-visible:outline-2 focus-visible:outline-sky-600 ${
        mode === m ? "bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"
      }`}
    >
      {label}
    </button>
  );
  return (
    <div className="space-y-3">
      <div role="group" aria-label="What to send" className="inline-flex overflow-hidden rounded border border-zinc-300 dark:border-zinc-700">
        {tab("payload", "Write a payload")}
        {tab("command", "Saved command")}
      </div>
      <div hidden={mode !== "payload"}>{payloadForm}</div>
      {mode === "command" && commandRunner}
    </div>
  );
}
