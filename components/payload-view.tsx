"use client";
import { useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
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
  const tabs = useRef(new Map<View, HTMLButtonElement>());

  /** WAI-ARIA tabs: Left/Right move to the previous/next view (wrapping), Home/End to the first/last; the view follows focus. */
  function onTabKey(e: KeyboardEvent<HTMLButtonElement>) {
    const at = available.findIndex((v) => v.id === current.id);
    const to =
      e.key === "ArrowRight"
        ? (at + 1) % available.length
        : e.key === "ArrowLeft"
          ? (at - 1 + available.length) % available.length
          : e.key === "Home"
            ? 0
            : e.key === "End"
              ? available.length - 1
              : null;
    if (to === null) return;
    e.preventDefault();
    const next = available[to]!.id;
    setChosen(next);
    tabs.current.get(next)?.focus();
  }

  return (
    <section aria-label={label} className="min-w-0 rounded border border-zinc-200 dark:border-zinc-800">
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1 border-b border-zinc-200 px-2 py-1 dark:border-zinc-800">
        <span className="min-w-0 text-xs font-medium text-zinc-600 wrap-anywhere dark:text-zinc-400">
          {label} · {bytes} B
        </span>
        <div className="ml-auto flex items-center gap-1">
          <div role="tablist" aria-label={`${label} view`} className="flex gap-1">
            {available.map((v) => {
              const selected = current.id === v.id;
              return (
                <button
                  key={v.id}
                  ref={(el) => {
                    if (el) tabs.current.set(v.id, el);
                    else tabs.current.delete(v.id);
                  }}
                  type="button"
                  role="tab"
                  id={`${id}-${v.id}`}
                  aria-selected={selected}
                  aria-controls={`${id}-panel`}
                  tabIndex={selected ? 0 : -1}
                  onClick={() => setChosen(v.id)}
                  onKeyDown={onTabKey}
                  className={`rounded px-2 py-0.5 text-xs focus-visible:outline-2 focus-visible:outline-sky-600 ${
                    selected ? "bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"
                  }`}
                >
                  {v.name}
                </button>
              );
            })}
          </div>
          <CopyButton text={current.body ?? ""} label={`Copy ${label.toLowerCase()} as ${current.name}`} />
        </div>
      </div>
      <pre
        id={`${id}-panel`}
        role="tabpanel"
        aria-labelledby={`${id}-${current.id}`}
        tabIndex={0}
        data-testid={`${label.toLowerCase().replace(/\s+/g, "-")}-payload`}
        className="max-h-64 overflow-auto whitespace-pre-wrap break-all p-2 font-mono text-sm focus-visible:outline-2 focus-visible:outline-sky-600"
      >
        {current.body === "" ? <span className="text-zinc-500 dark:text-zinc-400">(empty)</span> : current.body}
      </pre>
    </section>
  );
}
