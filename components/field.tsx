"use client";
import { useId, type InputHTMLAttributes } from "react";
import { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from "@/lib/rrpc/types";

/** Styles of the forms of commands and batches (the console's, spelled once). */
export const inputCls =
  "w-full rounded border border-zinc-300 bg-white px-2 py-1.5 text-sm focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-zinc-700 dark:bg-zinc-900";
export const primaryButtonCls =
  "rounded bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50";
export const secondaryButtonCls =
  "rounded border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-sky-600 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-900";
export const errorTextCls = "mt-1 text-xs text-rose-700 dark:text-rose-300";
export const hintTextCls = "mt-1 text-xs text-zinc-500 dark:text-zinc-400";

export type ControlProps = { id: string; "aria-invalid": boolean; "aria-describedby"?: string };

/**
 * A labelled control with its error (or hint) under it, tied to it for screen readers. The
 * control is rendered by `children` with the props that do the tying.
 */
export function Field({
  label,
  error,
  hint,
  className = "",
  children,
}: {
  label: React.ReactNode;
  error?: string | null;
  hint?: React.ReactNode;
  className?: string;
  children: (props: ControlProps) => React.ReactNode;
}) {
  const id = useId();
  const noteId = `${id}-note`;
  const note = error ?? hint;
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1 block text-sm font-medium">
        {label}
      </label>
      {children({ id, "aria-invalid": !!error, "aria-describedby": note ? noteId : undefined })}
      {error ? (
        <p id={noteId} className={errorTextCls} data-field-error>
          {error}
        </p>
      ) : hint ? (
        <p id={noteId} className={hintTextCls}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** Field errors by field path (`params.0.name`…); the first message of each. */
export function errorsByField(errors: readonly { field: string; message: string }[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of errors) if (!m.has(e.field)) m.set(e.field, e.message);
  return m;
}

/** A timeout in ms, within the hub's range; `className` sets its width. */
export function TimeoutInput({ className, ...props }: InputHTMLAttributes<HTMLInputElement>) {
  return (
    <input
      type="number"
      inputMode="numeric"
      min={MIN_TIMEOUT_MS}
      max={MAX_TIMEOUT_MS}
      step={100}
      className={`${inputCls} ${className ?? ""}`}
      {...props}
    />
  );
}
