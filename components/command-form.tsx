"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useMemo, useState } from "react";
import { base64ToBytes, isBase64, utf8Bytes } from "@/lib/rrpc/payload";
import { checkProductId, type FieldError } from "@/lib/rrpc/topics";
import { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, timeoutInRange } from "@/lib/rrpc/types";
import { PARAM_TYPES, isRequired, placeholders, templateErrors, type CommandParam, type ParamType, type ParamValue } from "@/lib/rrpc/template";
import type { Command, CommandRequest } from "@/lib/rrpc/api";
import { ApiClientError, errorMessage } from "@/lib/hooks/api-client";
import { useLimits } from "@/lib/hooks/use-api";
import { createCommand, updateCommand, useCommand } from "@/lib/hooks/use-commands";
import { ErrorAlert } from "./error-alert";
import { errorsByField, Field, inputCls, primaryButtonCls, secondaryButtonCls, TimeoutInput } from "./field";
import { takeCommandDraft } from "./save-as-command";

/** A parameter row as typed: every field is text until it is checked. */
type Row = { key: number; name: string; type: ParamType; values: string; min: string; max: string; default: string; required: boolean };
type Form = {
  name: string;
  description: string;
  productId: string;
  payload: string;
  encoding: "utf8" | "base64";
  timeoutMs: string;
  params: Row[];
};

const EMPTY: Form = { name: "", description: "", productId: "", payload: "", encoding: "utf8", timeoutMs: "", params: [] };
let nextKey = 1;
const newRow = (name = ""): Row => ({ key: nextKey++, name, type: "string", values: "", min: "", max: "", default: "", required: true });

function fromCommand(c: Command): Form {
  return {
    name: c.name,
    description: c.description ?? "",
    productId: c.productId ?? "",
    payload: c.payload,
    encoding: c.encoding,
    timeoutMs: c.timeoutMs === undefined ? "" : String(c.timeoutMs),
    params: c.params.map((p) => ({
      key: nextKey++,
      name: p.name,
      type: p.type,
      values: (p.values ?? []).map(String).join(", "),
      min: p.min === undefined ? "" : String(p.min),
      max: p.max === undefined ? "" : String(p.max),
      default: p.default === undefined ? "" : String(p.default),
      required: isRequired(p),
    })),
  };
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** An enum's values from "a, b, c": numbers when every one is a number, else text. */
function parseValues(text: string): (string | number)[] {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return parts.length > 0 && parts.every((s) => NUMBER.test(s)) ? parts.map(Number) : parts;
}

/** The request the form stands for, and what is wrong with it by the hub's own rules. */
function toRequest(f: Form, maxPayloadBytes: number | undefined): { body: CommandRequest; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const num = (text: string, field: string): number | undefined => {
    if (text.trim() === "") return undefined;
    const n = Number(text);
    if (!NUMBER.test(text.trim()) || !Number.isFinite(n)) {
      errors.push({ field, message: "not a number" });
      return undefined;
    }
    return n;
  };
  const name = f.name.trim();
  if (!name) errors.push({ field: "name", message: "a name is required" });
  else if (name.length > 100) errors.push({ field: "name", message: "at most 100 characters" });
  if (f.description.length > 1000) errors.push({ field: "description", message: "at most 1000 characters" });
  const product = f.productId ? checkProductId(f.productId) : null;
  if (product) errors.push({ field: "productId", message: product.message });
  const payload = f.encoding === "base64" ? f.payload.trim() : f.payload;
  if (f.encoding === "base64" && !isBase64(payload)) errors.push({ field: "payload", message: "not valid base64" });
  else if (maxPayloadBytes !== undefined) {
    const bytes = f.encoding === "base64" ? base64ToBytes(payload).byteLength : utf8Bytes(payload).byteLength;
    if (bytes > maxPayloadBytes)
      errors.push({ field: "payload", message: `the template is ${bytes} bytes; the payload limit is ${maxPayloadBytes}` });
  }
  const timeout = num(f.timeoutMs, "timeoutMs");
  if (timeout !== undefined && !timeoutInRange(timeout)) {
    errors.push({ field: "timeoutMs", message: `a whole number of ms from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}` });
  }
  const params = f.params.map((r, i): CommandParam => {
    const p: CommandParam = { name: r.name.trim(), type: r.type, required: r.required };
    const numeric = r.type === "number" || r.type === "integer";
    if (r.type === "enum") p.values = parseValues(r.values);
    if (numeric) {
      const min = num(r.min, `params.${i}.min`);
      const max = num(r.max, `params.${i}.max`);
      if (min !== undefined) p.min = min;
      if (max !== undefined) p.max = max;
    }
    let dflt: ParamValue | undefined;
    if (r.default !== "") {
      if (numeric) dflt = num(r.default, `params.${i}.default`);
      else if (r.type === "boolean") dflt = r.default === "true";
      else if (r.type === "enum") dflt = (p.values ?? []).find((v) => String(v) === r.default) ?? r.default;
      else dflt = r.default;
    }
    if (dflt !== undefined) p.default = dflt;
    return p;
  });
  errors.push(...templateErrors({ payload, encoding: f.encoding, params }));
  const body: CommandRequest = { name, payload, encoding: f.encoding, params };
  if (f.description.trim()) body.description = f.description.trim();
  if (f.productId) body.productId = f.productId;
  if (timeout !== undefined) body.timeoutMs = timeout;
  return { body, errors };
}

/** The fields the form shows; a server error about another one is shown above the form. */
function isShownField(field: string): boolean {
  return (
    /^(name|description|productId|payload|encoding|timeoutMs|params)$/.test(field) ||
    /^params\.\d+\.(name|type|values|min|max|default|required)$/.test(field)
  );
}

/**
 * Creates or edits a saved command: its template and a parameter editor, checked as the
 * operator types with the hub's own rules (lib/rrpc/template.ts); the hub's refusals (a name
 * already taken, a field it rejects) are shown on their fields too.
 */
export function CommandForm({ command, fromConsole = false }: { command?: Command; fromConsole?: boolean }) {
  const router = useRouter();
  const { data: limits } = useLimits();
  const [form, setForm] = useState<Form>(() => (command ? fromCommand(command) : EMPTY));
  const [nameTouched, setNameTouched] = useState(!!command);
  const [attempted, setAttempted] = useState(false);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);
  const whyId = useId();

  useEffect(() => {
    if (!fromConsole) return;
    const draft = takeCommandDraft();
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the console's payload, read once after hydration
    if (draft) setForm((f) => ({ ...f, payload: draft.payload, encoding: draft.encoding, productId: draft.productId ?? f.productId }));
  }, [fromConsole]);

  const { body, errors } = useMemo(() => toRequest(form, limits?.maxPayloadBytes), [form, limits]);
  const local = errorsByField(errors);
  const server = errorsByField(serverError instanceof ApiClientError ? (serverError.fields ?? []) : []);
  // The hub's refusal is shown on the fields it names, when the form has them all.
  const onFields =
    serverError instanceof ApiClientError && (serverError.fields ?? []).length > 0 && serverError.fields!.every((f) => isShownField(f.field));
  const errorOf = (field: string): string | undefined => {
    if (field === "name" && !nameTouched && !attempted) return server.get(field);
    return local.get(field) ?? server.get(field);
  };
  const why = errors.map((e) => `${e.field}: ${e.message}`);

  const edit = (patch: Partial<Form>) => {
    setForm((f) => ({ ...f, ...patch }));
    // An error about what is no longer there must not stay.
    setServerError(null);
  };
  const editRow = (i: number, patch: Partial<Row>) => edit({ params: form.params.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const undeclared = form.encoding === "utf8" ? placeholders(form.payload).filter((n) => !form.params.some((r) => r.name.trim() === n)) : [];

  async function save() {
    setAttempted(true);
    if (errors.length > 0 || saving) return;
    setSaving(true);
    setServerError(null);
    try {
      if (command) await updateCommand(command.id, body);
      else await createCommand(body);
      router.push("/commands");
    } catch (e) {
      setServerError(e);
      setSaving(false);
    }
  }

  return (
    <form
      aria-label={command ? `Edit command ${command.name}` : "New command"}
      className="max-w-4xl space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <Field label="Name" error={errorOf("name")}>
          {(a11y) => (
            <input
              {...a11y}
              className={inputCls}
              value={form.name}
              maxLength={200}
              onChange={(e) => {
                setNameTouched(true);
                edit({ name: e.target.value });
              }}
              onBlur={() => setNameTouched(true)}
              autoComplete="off"
            />
          )}
        </Field>
        <Field label="Product ID (optional)" error={errorOf("productId")} hint="Set it to allow this command on that product's devices only.">
          {(a11y) => (
            <input
              {...a11y}
              className={inputCls}
              value={form.productId}
              onChange={(e) => edit({ productId: e.target.value.trim() })}
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </Field>
      </div>
      <Field label="Description (optional)" error={errorOf("description")}>
        {(a11y) => <input {...a11y} className={inputCls} value={form.description} onChange={(e) => edit({ description: e.target.value })} />}
      </Field>
      <fieldset>
        <legend className="mb-1 text-sm font-medium">Encoding</legend>
        <div className="flex gap-3 text-sm">
          {(["utf8", "base64"] as const).map((enc) => (
            <label key={enc} className="flex items-center gap-1">
              <input type="radio" name="encoding" value={enc} checked={form.encoding === enc} onChange={() => edit({ encoding: enc })} />
              {enc === "utf8" ? "Text template (UTF-8)" : "Base64 bytes (no parameters)"}
            </label>
          ))}
        </div>
        {errorOf("encoding") && <p className="mt-1 text-xs text-rose-700 dark:text-rose-300">{errorOf("encoding")}</p>}
      </fieldset>
      <Field
        label="Payload template"
        error={errorOf("payload")}
        hint={
          form.encoding === "utf8"
            ? '{{name}} stands for a parameter\'s value. A template starting with { or [ is JSON: strings are escaped inside "…", and the rendering must be valid JSON.'
            : "The bytes sent, as base64."
        }
      >
        {(a11y) => (
          <textarea
            {...a11y}
            rows={5}
            spellCheck={false}
            className={`${inputCls} font-mono`}
            value={form.payload}
            onChange={(e) => edit({ payload: e.target.value })}
          />
        )}
      </Field>
      {undeclared.length > 0 && (
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <span className="text-zinc-600 dark:text-zinc-400">Used in the template, not declared:</span>
          {undeclared.map((n) => (
            <button key={n} type="button" className={secondaryButtonCls} onClick={() => edit({ params: [...form.params, newRow(n)] })}>
              Declare <span className="font-mono">{n}</span>
            </button>
          ))}
        </p>
      )}

      <section aria-label="Parameters" className="space-y-3">
        <h2 className="text-sm font-semibold">Parameters</h2>
        {errorOf("params") && <p className="text-xs text-rose-700 dark:text-rose-300">{errorOf("params")}</p>}
        {form.params.length === 0 && <p className="text-sm text-zinc-500 dark:text-zinc-400">No parameters: the payload is sent as written.</p>}
        {form.params.map((r, i) => (
          <ParamRow
            key={r.key}
            index={i}
            row={r}
            errorOf={(k) => errorOf(`params.${i}.${k}`)}
            onChange={(patch) => editRow(i, patch)}
            onRemove={() => edit({ params: form.params.filter((_, j) => j !== i) })}
          />
        ))}
        <button type="button" className={secondaryButtonCls} onClick={() => edit({ params: [...form.params, newRow()] })}>
          Add parameter
        </button>
      </section>

      <Field
        label="Timeout (ms, optional)"
        error={errorOf("timeoutMs")}
        hint={`empty: the call's, else the hub's default (${limits?.defaultTimeoutMs ?? "…"} ms)`}
      >
        {(a11y) => <TimeoutInput {...a11y} className="w-40" value={form.timeoutMs} onChange={(e) => edit({ timeoutMs: e.target.value })} />}
      </Field>

      {serverError !== null &&
        (onFields ? (
          <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">
            The hub refused the command: {errorMessage(serverError)}
          </p>
        ) : (
          <ErrorAlert error={serverError} prefix="Cannot save the command" />
        ))}
      <div className="flex flex-wrap items-center gap-3">
        <button
          type="submit"
          disabled={errors.length > 0 || saving}
          aria-describedby={why.length > 0 ? whyId : undefined}
          className={primaryButtonCls}
        >
          {saving ? "Saving…" : command ? "Save changes" : "Create command"}
        </button>
        <Link href="/commands" className="text-sm underline">
          Cancel
        </Link>
      </div>
      {why.length > 0 && (
        <p id={whyId} className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="save-disabled-why">
          Saving is off until this is fixed: {why.join("; ")}.
        </p>
      )}
    </form>
  );
}

function ParamRow({
  index,
  row,
  errorOf,
  onChange,
  onRemove,
}: {
  index: number;
  row: Row;
  errorOf: (k: string) => string | undefined;
  onChange: (patch: Partial<Row>) => void;
  onRemove: () => void;
}) {
  const numeric = row.type === "number" || row.type === "integer";
  const enumValues = row.type === "enum" ? parseValues(row.values) : [];
  const n = index + 1;
  return (
    <fieldset className="rounded border border-zinc-200 p-3 dark:border-zinc-800" data-testid={`param-row-${n}`}>
      <legend className="px-1 text-sm font-medium">Parameter {n}</legend>
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Field label="Name" error={errorOf("name")}>
          {(a11y) => (
            <input
              {...a11y}
              className={`${inputCls} font-mono`}
              value={row.name}
              onChange={(e) => onChange({ name: e.target.value.trim() })}
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </Field>
        <Field label="Type" error={errorOf("type")}>
          {(a11y) => (
            <select
              {...a11y}
              className={inputCls}
              value={row.type}
              // Bounds go with numbers, values with an enum: a new type starts without the others'.
              onChange={(e) => {
                const type = e.target.value as ParamType;
                const num = type === "number" || type === "integer";
                onChange({ type, default: "", ...(num ? {} : { min: "", max: "" }), ...(type === "enum" ? {} : { values: "" }) });
              }}
            >
              {PARAM_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
        {row.type === "enum" && (
          <Field label="Values" error={errorOf("values")} hint="comma-separated" className="col-span-2">
            {(a11y) => (
              <input {...a11y} className={inputCls} value={row.values} onChange={(e) => onChange({ values: e.target.value })} spellCheck={false} />
            )}
          </Field>
        )}
        {numeric && (
          <>
            <Field label="Min" error={errorOf("min")}>
              {(a11y) => (
                <input {...a11y} type="number" step="any" className={inputCls} value={row.min} onChange={(e) => onChange({ min: e.target.value })} />
              )}
            </Field>
            <Field label="Max" error={errorOf("max")}>
              {(a11y) => (
                <input {...a11y} type="number" step="any" className={inputCls} value={row.max} onChange={(e) => onChange({ max: e.target.value })} />
              )}
            </Field>
          </>
        )}
        <Field label="Default" error={errorOf("default")}>
          {(a11y) =>
            row.type === "boolean" || row.type === "enum" ? (
              <select {...a11y} className={inputCls} value={row.default} onChange={(e) => onChange({ default: e.target.value })}>
                <option value="">none</option>
                {(row.type === "boolean" ? ["true", "false"] : enumValues.map(String)).map((v, i) => (
                  <option key={`${i}-${v}`} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            ) : (
              <input
                {...a11y}
                type={numeric ? "number" : "text"}
                step={numeric ? "any" : undefined}
                className={inputCls}
                value={row.default}
                onChange={(e) => onChange({ default: e.target.value })}
              />
            )
          }
        </Field>
        <div className="flex items-end gap-3 pb-1.5">
          <label className="flex items-center gap-1 text-sm">
            <input type="checkbox" checked={row.required} onChange={(e) => onChange({ required: e.target.checked })} />
            Required
          </label>
          <button
            type="button"
            className="text-sm text-rose-700 underline dark:text-rose-300"
            onClick={onRemove}
            aria-label={`Remove parameter ${n}`}
          >
            Remove
          </button>
        </div>
      </div>
    </fieldset>
  );
}

/** The edit page's form, once the command has loaded. */
export function EditCommand({ id }: { id: string }) {
  const { data, error } = useCommand(id);
  if (error) return <ErrorAlert error={error} prefix="Cannot load the command" />;
  if (!data) return <p className="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>;
  return <CommandForm key={data.id + data.updatedAt} command={data} />;
}
