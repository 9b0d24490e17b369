"use client";
import { useRouter } from "next/navigation";

/** Where the console leaves a payload for the new-command form (this tab only). */
const DRAFT_KEY = "rrpc-hub.command-draft";

export type CommandDraft = { productId?: string; payload: string; encoding: "utf8" | "base64" };

/** The console's payload, handed to /commands/new once; null when there is none. */
export function takeCommandDraft(): CommandDraft | null {
  try {
    const raw = sessionStorage.getItem(DRAFT_KEY);
    sessionStorage.removeItem(DRAFT_KEY);
    const d = raw ? (JSON.parse(raw) as Partial<CommandDraft>) : null;
    if (!d || typeof d.payload !== "string") return null;
    return { payload: d.payload, encoding: d.encoding === "base64" ? "base64" : "utf8", ...(d.productId ? { productId: d.productId } : {}) };
  } catch {
    return null;
  }
}

/** "Save as command": opens the new-command form with the console's product and payload. */
export function SaveAsCommand({ productId, payload, encoding }: CommandDraft) {
  const router = useRouter();
  return (
    <button
      type="button"
      className="text-sm underline focus-visible:outline-2 focus-visible:outline-sky-600"
      onClick={() => {
        try {
          sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ productId, payload, encoding } satisfies CommandDraft));
        } catch {
          // storage refused (private mode, quota): the form opens empty
        }
        router.push("/commands/new?from=console");
      }}
    >
      Save as command
    </button>
  );
}
