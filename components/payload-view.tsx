"use client";
import { useId, useMemo, useState } from "react";
import { base64ToBytes, toHex } from "@/lib/rrpc/payload";
import type { PayloadView as Payload } from "@/lib/rrpc/payload";
import { CopyButton } from "./copy-button";

type View = "text" | "json" | "hex" | "base64";

function prettyJson(text: string | undefined): string | null {
  if (text === undefined) return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/** A payload with text / pretty-JSON / hex / base64 views and a copy button for the view shown. */
export function PayloadView({ payload, label }: { payload: Payload; label: string }) {
  const json = useMemo(() => prettyJson(payload.payloadText), [payload.payloadText]);
  const hex = useMemo(() => toHex(base64ToBytes(payload.payloadBase64)), [payload.payloadBase64]);
  const views: { id: View; name: string; body: string | null }[] = [
    { id: "text", name: "Text", body: payload.payloadText ?? null },
    { id: "json", name: "JSON", body: json },
    { id: "hex", name: "Hex", body: hex },
    { id: "base64", name: "Base64", body: payload.payloadBase64 },
  ];
  const available = views.filter((v) => v.body !== null);
  const [chosen, setChosen] = useState<View | null>(null);
  const current = available.find((v) => v.id === chosen) ?? (json !== null ? views[1]! : available[0]!);
  const id = useId();
  const bytes = base64ToBytes(payload.payloadBase64).byteLength;

  return (
    <section aria-label={label} className="rounded border border-zinc-200 dark:border-zinc-800">
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-200 px-2 py-1 dark:border-zinc-800">
        <span className="text-xs font-medium text-zinc-600 dark:text-zinc-400">
          {label} · {bytes} B
        </span>
        <div role="tablist" aria-label={`${label} view`} className="ml-auto flex gap-1">
          {available.map((v) => (
            <button
              key={v.id}
              type="button"
              role="tab"
              id={`${id}-${v.id}`}
              aria-selected={current.id === v.id}
              aria-controls={`${id}-panel`}
              onClick={() => setChosen(v.id)}
              className={`rounded px-2 py-0.5 text-xs focus-visible:outline-2 focus-visible:outline-sky-600 ${
                current.id === v.id ? "bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"
              }`}
            >
              {v.name}
            </button>
          ))}
        </div>
        <CopyButton text={current.body ?? ""} label={`Copy ${label.toLowerCase()} as ${current.name}`} />
      </div>
      <pre
        id={`${id}-panel`}
        role="tabpanel"
        aria-labelledby={`${id}-${current.id}`}
        tabIndex={0}
        data-testid={`${label.toLowerCase().replace(/\s+/g, "-")}-payload`}
        className="max-h-64 overflow-auto whitespace-pre-wrap break-all p-2 font-mono text-sm"
      >
        {current.body === "" ? <span className="text-zinc-500 dark:text-zinc-400">(empty)</span> : current.body}
      </pre>
    </section>
  );
}
