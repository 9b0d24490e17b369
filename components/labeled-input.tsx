"use client";
import { useId, type InputHTMLAttributes } from "react";

/** An input with its visible label, which also names it for screen readers. */
export function LabeledInput({ label, large = false, ...input }: { label: string; large?: boolean } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id} className={`mb-1 block font-medium ${large ? "text-sm" : "text-xs"}`}>
        {label}
      </label>
      <input id={id} {...input} />
    </div>
  );
}
