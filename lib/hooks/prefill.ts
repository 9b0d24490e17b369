/**
 * "Edit & resend": the console opened with a call's request in its form. The request travels in
 * the URL (`/?productId=…&deviceName=…&payload=…&encoding=utf8|base64&timeoutMs=…`), or, when
 * the payload is too large for a URL, in sessionStorage under `/?draft=<key>`.
 */
import type { CallJson } from "../rrpc/types";

export type Mode = "text" | "json" | "base64";
export type Draft = { productId: string; deviceName: string; payload: string; mode: Mode; timeoutMs: string };
/** The console's form as the URL gives it; `draftKey` names a draft kept in sessionStorage. */
export type InitialDraft = Partial<Draft> & { draftKey?: string };

/** Longest URL that carries a payload itself; beyond, sessionStorage. */
const URL_MAX = 2000;
export const DRAFT_PREFIX = "rrpc-hub.draft.";

function looksLikeJson(text: string): boolean {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** The form's draft for sending this call again: its text when it is UTF-8, else its base64. */
export function draftOf(call: Pick<CallJson, "productId" | "deviceName" | "request" | "timeoutMs">): Draft {
  const text = call.request.payloadText;
  return {
    productId: call.productId,
    deviceName: call.deviceName,
    payload: text ?? call.request.payloadBase64,
    mode: text === undefined ? "base64" : looksLikeJson(text) ? "json" : "text",
    timeoutMs: String(call.timeoutMs),
  };
}

/** The console's address with this draft in its form (browser only: a large draft goes to sessionStorage). */
export function prefillHref(d: Draft): string {
  const q = new URLSearchParams({
    productId: d.productId,
    deviceName: d.deviceName,
    payload: d.payload,
    encoding: d.mode === "base64" ? "base64" : "utf8",
    timeoutMs: d.timeoutMs,
  });
  if (d.mode === "json") q.set("mode", "json");
  const href = `/?${q.toString()}`;
  if (href.length <= URL_MAX) return href;
  const key = Math.random().toString(36).slice(2, 12);
  sessionStorage.setItem(DRAFT_PREFIX + key, JSON.stringify(d));
  return `/?draft=${key}`;
}

/** The console's initial form from its query string; undefined when it names no device nor draft. */
export function draftFromQuery(q: Record<string, string | string[] | undefined>): InitialDraft | undefined {
  const one = (k: string) => {
    const v = q[k];
    return typeof v === "string" ? v : undefined;
  };
  const draftKey = one("draft");
  if (draftKey) return { draftKey };
  const productId = one("productId");
  const deviceName = one("deviceName");
  if (!productId || !deviceName) return undefined;
  const d: InitialDraft = { productId, deviceName };
  const payload = one("payload");
  if (payload !== undefined) {
    d.payload = payload;
    d.mode = one("encoding") === "base64" ? "base64" : one("mode") === "json" ? "json" : "text";
  }
  const timeoutMs = one("timeoutMs");
  if (timeoutMs) d.timeoutMs = timeoutMs;
  return d;
}

/** A draft kept in sessionStorage by prefillHref (browser only). */
export function storedDraft(key: string): Partial<Draft> | null {
  try {
    return JSON.parse(sessionStorage.getItem(DRAFT_PREFIX + key) ?? "null") as Partial<Draft> | null;
  } catch {
    return null;
  }
}
