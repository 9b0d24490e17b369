import type { FieldError } from "./topics";

/**
 * Saved commands' payload templates: `{{name}}` stands for a parameter's value. Pure, so that
 * the dashboard validates a form as the operator types with the very rules the hub applies
 * (README, "Commands").
 */
export const PARAM_TYPES = ["string", "number", "integer", "boolean", "enum"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];
export type ParamValue = string | number | boolean;

export type CommandParam = {
  name: string;
  type: ParamType;
  /** The choices of an `enum`. */
  values?: (string | number)[];
  /** Bounds of a `number` or `integer`, inclusive. */
  min?: number;
  max?: number;
  default?: ParamValue;
  /** Whether a call must give a value; by default, a parameter without a default is required. */
  required?: boolean;
};

export type Template = { payload: string; encoding: "utf8" | "base64"; params: readonly CommandParam[] };

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A template whose first character is `{` or `[` is JSON: its rendering must parse. */
export const isJsonTemplate = (payload: string) => /^\s*[[{]/.test(payload);

export const isRequired = (p: CommandParam) => p.required ?? p.default === undefined;

/** Why `value` is not acceptable for `p`, or null when it is. */
export function paramError(p: CommandParam, value: unknown): string | null {
  switch (p.type) {
    case "string":
      return typeof value === "string" ? null : "must be a string";
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "enum":
      return p.values?.some((v) => v === value) ? null : `must be one of ${(p.values ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `must be ${p.type === "integer" ? "an integer" : "a number"}`;
      if (p.type === "integer" && !Number.isInteger(value)) return "must be an integer";
      if (p.min !== undefined && value < p.min) return `must be at least ${p.min}`;
      if (p.max !== undefined && value > p.max) return `must be at most ${p.max}`;
      return null;
    }
  }
}

/** The names a template uses, in order of first use. */
export function placeholders(payload: string): string[] {
  return [...new Set([...payload.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** A value of the right type for each parameter, to check that a JSON template renders valid JSON whatever is given. */
function sampleValue(p: CommandParam): ParamValue {
  if (p.default !== undefined) return p.default;
  if (p.type === "enum") return p.values?.[0] ?? "";
  if (p.type === "boolean") return true;
  if (p.type === "string") return "sample";
  return p.min ?? p.max ?? 0;
}

/**
 * What is wrong with a command's definition: parameters (names, types, bounds, defaults) and the
 * template (every placeholder declared, every parameter used, a JSON template that renders JSON).
 */
export function templateErrors(t: Template): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  t.params.forEach((p, i) => {
    const at = (k?: string) => `params.${i}${k ? "." + k : ""}`;
    if (!PARAM_NAME.test(p.name)) errors.push({ field: at("name"), message: "letters, digits and _ (not first), at most 64" });
    else if (seen.has(p.name)) errors.push({ field: at("name"), message: `parameter ${p.name} is declared twice` });
    seen.add(p.name);
    if (p.type === "enum" && !(p.values && p.values.length > 0)) errors.push({ field: at("values"), message: "an enum needs values" });
    if (p.type !== "enum" && p.values !== undefined) errors.push({ field: at("values"), message: "only an enum has values" });
    const numeric = p.type === "number" || p.type === "integer";
    if (!numeric && (p.min !== undefined || p.max !== undefined)) errors.push({ field: at("min"), message: "only numbers have bounds" });
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) errors.push({ field: at("max"), message: "max is below min" });
    if (p.default !== undefined) {
      const why = paramError(p, p.default);
      if (why) errors.push({ field: at("default"), message: `default ${why}` });
    }
  });
  if (t.encoding === "base64") {
    if (t.params.length > 0) errors.push({ field: "params", message: "a base64 payload is bytes, not a template: it takes no parameters" });
    return errors;
  }
  for (const name of placeholders(t.payload)) {
    if (!seen.has(name)) errors.push({ field: "payload", message: `{{${name}}} is not a declared parameter` });
  }
  const used = new Set(placeholders(t.payload));
  t.params.forEach((p, i) => {
    if (!used.has(p.name)) errors.push({ field: `params.${i}.name`, message: `parameter ${p.name} is not used in the payload` });
  });
  if (errors.length === 0 && isJsonTemplate(t.payload)) {
    const sample = Object.fromEntries(t.params.map((p) => [p.name, sampleValue(p)]));
    const r = renderTemplate(t, sample);
    if (!r.ok) errors.push(...r.fields);
  }
  return errors;
}

export type Rendered = { ok: true; payload: string; params: Record<string, ParamValue> } | { ok: false; fields: FieldError[] };

/**
 * The payload with each `{{name}}` replaced. Numbers and booleans go in as their JSON text,
 * strings as their text, JSON-escaped inside a JSON string literal of a JSON template; an
 * optional parameter left out is `null` (JSON, outside a string) or empty. A JSON template's
 * rendering must parse.
 */
export function renderTemplate(t: Template, given: Record<string, unknown>): Rendered {
  const fields: FieldError[] = [];
  const declared = new Map(t.params.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) fields.push({ field: `params.${name}`, message: "not a parameter of this command" });
  }
  const values: Record<string, ParamValue> = {};
  for (const p of t.params) {
    const v = Object.hasOwn(given, p.name) ? given[p.name] : p.default;
    if (v === undefined || v === null) {
      if (isRequired(p)) fields.push({ field: `params.${p.name}`, message: "required" });
      continue;
    }
    const why = paramError(p, v);
    if (why) fields.push({ field: `params.${p.name}`, message: why });
    else values[p.name] = v as ParamValue;
  }
  if (fields.length > 0) return { ok: false, fields };
  if (t.encoding === "base64") return { ok: true, payload: t.payload, params: values };

  const json = isJsonTemplate(t.payload);
  let out = "";
  let last = 0;
  let inString = false;
  for (const m of t.payload.matchAll(PLACEHOLDER)) {
    const before = t.payload.slice(last, m.index);
    if (json) inString = stringStateAfter(before, inString);
    out += before;
    const v = values[m[1]!];
    if (v === undefined) out += json && !inString ? "null" : "";
    else if (typeof v === "string") out += json && inString ? JSON.stringify(v).slice(1, -1) : v;
    else out += JSON.stringify(v);
    last = m.index + m[0].length;
  }
  out += t.payload.slice(last);
  if (json) {
    try {
      JSON.parse(out);
    } catch (err) {
      return { ok: false, fields: [{ field: "payload", message: `the template renders invalid JSON (${(err as Error).message})` }] };
    }
  }
  return { ok: true, payload: out, params: values };
}

/** Whether the text after `chunk` is inside a JSON string literal, given whether its start was. */
function stringStateAfter(chunk: string, inString: boolean): boolean {
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (inString && c === "\\") i++;
    else if (c === '"') inString = !inString;
  }
  return inString;
}
