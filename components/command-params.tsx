"use client";
import { useMemo, useState } from "react";
import { isRequired, renderTemplate, type CommandParam, type Rendered } from "@/lib/rrpc/template";
import type { Command } from "@/lib/rrpc/api";
import { errorsByField, Field, inputCls } from "./field";

/** What the operator typed for each parameter: text, an enum's index, or a checkbox. */
export type ParamDraft = Record<string, string | boolean>;

/** The form as it opens: each parameter's default where it has one. */
export function initialParamDraft(params: readonly CommandParam[]): ParamDraft {
  return Object.fromEntries(
    params.map((p) => {
      if (p.type === "boolean") return [p.name, p.default === true];
      if (p.type === "enum") {
        const i = p.default === undefined ? -1 : (p.values ?? []).findIndex((v) => v === p.default);
        return [p.name, i < 0 ? "" : String(i)];
      }
      return [p.name, p.default === undefined ? "" : String(p.default)];
    }),
  );
}

/**
 * The values the form gives, typed: a number field's text as a number (kept as text when it is
 * not one, so the template's rules say why), an enum's choice as its value; an empty field gives
 * nothing (the default applies, or "required").
 */
export function paramValues(params: readonly CommandParam[], draft: ParamDraft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const raw = draft[p.name];
    if (p.type === "boolean") {
      out[p.name] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw : "";
    if (p.type === "enum") {
      if (text !== "") out[p.name] = p.values?.[Number(text)];
    } else if (p.type === "number" || p.type === "integer") {
      const t = text.trim();
      if (t !== "") out[p.name] = Number.isFinite(Number(t)) ? Number(t) : t;
    } else if (text !== "") out[p.name] = text;
  }
  return out;
}

/** A command's parameter form: its draft, the values, the rendered payload or why not. */
export function useParamForm(command: Command | undefined) {
  const [state, setState] = useState<{ commandId: string | null; draft: ParamDraft }>({ commandId: null, draft: {} });
  // Another command starts from its own defaults.
  const draft = useMemo(
    () => (command && state.commandId === command.id ? state.draft : command ? initialParamDraft(command.params) : {}),
    [command, state],
  );
  const values = useMemo(() => (command ? paramValues(command.params, draft) : {}), [command, draft]);
  const rendered: Rendered | null = useMemo(() => (command ? renderTemplate(command, values) : null), [command, values]);
  const set = (name: string, v: string | boolean) => {
    if (!command) return;
    setState({ commandId: command.id, draft: { ...draft, [name]: v } });
  };
  return { draft, set, values, rendered, errors: errorsByField(rendered && !rendered.ok ? rendered.fields : []) };
}

function describe(p: CommandParam): string {
  const parts: string[] = [p.type];
  if (p.min !== undefined && p.max !== undefined) parts.push(`${p.min} to ${p.max}`);
  else if (p.min !== undefined) parts.push(`at least ${p.min}`);
  else if (p.max !== undefined) parts.push(`at most ${p.max}`);
  return parts.join(", ");
}

function requirement(p: CommandParam): string {
  if (p.default !== undefined) return `default ${JSON.stringify(p.default)}`;
  return isRequired(p) ? "required" : "optional";
}

/**
 * One control per parameter: number inputs with their bounds, a select for an enum, a checkbox
 * for a boolean, text otherwise; each with its error as the operator types ("required" only
 * once the field was touched).
 */
export function ParamFields({
  params,
  draft,
  errors,
  onChange,
}: {
  params: readonly CommandParam[];
  draft: ParamDraft;
  errors: Map<string, string>;
  onChange: (name: string, value: string | boolean) => void;
}) {
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  if (params.length === 0) return <p className="text-sm text-zinc-500 dark:text-zinc-400">This command takes no parameters.</p>;
  const touch = (name: string) => {
    if (!touched.has(name)) setTouched(new Set([...touched, name]));
  };
  return (
    <fieldset className="space-y-3" data-testid="command-params">
      <legend className="mb-1 text-sm font-medium">Parameters</legend>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        {params.map((p) => {
          const raw = draft[p.name];
          const message = errors.get(`params.${p.name}`);
          const error = message === "required" && !touched.has(p.name) ? null : message;
          const label = (
            <>
              <span className="font-mono">{p.name}</span> <span className="font-normal text-zinc-600 dark:text-zinc-400">({describe(p)})</span>
            </>
          );
          if (p.type === "boolean") {
            return (
              <div key={p.name}>
                <label className="flex items-center gap-2 text-sm font-medium">
                  <input type="checkbox" checked={raw === true} onChange={(e) => onChange(p.name, e.target.checked)} />
                  {label}
                </label>
                <p className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">{requirement(p)}</p>
              </div>
            );
          }
          return (
            <Field key={p.name} label={label} error={error} hint={requirement(p)}>
              {(a11y) =>
                p.type === "enum" ? (
                  <select
                    {...a11y}
                    className={inputCls}
                    value={typeof raw === "string" ? raw : ""}
                    onChange={(e) => {
                      touch(p.name);
                      onChange(p.name, e.target.value);
                    }}
                    onBlur={() => touch(p.name)}
                  >
                    <option value="">{p.default !== undefined ? `default (${p.default})` : isRequired(p) ? "Choose…" : "none"}</option>
                    {(p.values ?? []).map((v, i) => (
                      <option key={`${i}-${String(v)}`} value={String(i)}>
                        {String(v)}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    {...a11y}
                    className={`${inputCls} ${p.type === "string" ? "" : "font-mono"}`}
                    type={p.type === "string" ? "text" : "number"}
                    inputMode={p.type === "integer" ? "numeric" : p.type === "number" ? "decimal" : undefined}
                    min={p.min}
                    max={p.max}
                    step={p.type === "integer" ? 1 : p.type === "number" ? "any" : undefined}
                    value={typeof raw === "string" ? raw : ""}
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(e) => {
                      touch(p.name);
                      onChange(p.name, e.target.value);
                    }}
                    onBlur={() => touch(p.name)}
                  />
                )
              }
            </Field>
          );
        })}
      </div>
    </fieldset>
  );
}

/** The payload the parameters render, or why it cannot be rendered. */
export function RenderedPreview({ rendered, encoding }: { rendered: Rendered | null; encoding: "utf8" | "base64" }) {
  if (!rendered) return null;
  const other = rendered.ok ? [] : rendered.fields.filter((f) => !f.field.startsWith("params."));
  return (
    <div>
      <p className="mb-1 text-sm font-medium">Payload to send{encoding === "base64" ? " (base64)" : ""}</p>
      {rendered.ok ? (
        <pre
          data-testid="rendered-payload"
          className="max-h-48 overflow-auto whitespace-pre-wrap break-all rounded border border-zinc-200 bg-zinc-50 p-2 font-mono text-xs dark:border-zinc-800 dark:bg-zinc-900"
        >
          {rendered.payload}
        </pre>
      ) : (
        <p data-testid="rendered-payload-problem" className="text-xs text-zinc-600 dark:text-zinc-400">
          {other.length > 0 ? other.map((f) => f.message).join("; ") : "Shown once every parameter is valid."}
        </p>
      )}
    </div>
  );
}

/** The options of a saved-command picker: none chosen, then each command (with the product it is for). */
export function CommandOptions({ commands }: { commands: readonly Command[] }) {
  return (
    <>
      <option value="">Choose a command…</option>
      {commands.map((c) => (
        <option key={c.id} value={c.id}>
          {c.name}
          {c.productId ? ` (${c.productId})` : ""}
        </option>
      ))}
    </>
  );
}
