import type { CallsPage } from "../../rrpc/api";
import type { PayloadView } from "../../rrpc/payload";
import type { ExportCallsInput, ListCallsInput } from "../../rrpc/schemas";
import type { CallJson } from "../../rrpc/types";
import { callToJson, type CallRecord } from "../core/call";
import { DomainError } from "../core/errors";
import type { CallStore } from "../store/call-store";

/**
 * History answers are written piece by piece: built as one string, a page of calls with large
 * replies passed V8's longest string and every later answer failed (docs/protocol.md, "Payloads").
 * A JSON payload is escaped SLICE_CHARS characters at a time; small pieces are joined up to
 * CHUNK_CHARS per write.
 */
const CHUNK_CHARS = 64 * 1024;
const SLICE_CHARS = 64 * 1024;
/** Payload bytes read from the store at once: a page of calls with large replies is read in pieces. */
const PAGE_BYTES = 32 * 1024 * 1024;

/**
 * GET /api/calls: a CallsPage as JSON text. The page is read at once, so that a store failure
 * is still an error answer; each call is turned into JSON only as the answer is written.
 */
export async function listCalls(store: CallStore, q: ListCallsInput): Promise<AsyncGenerator<string>> {
  const { calls, more } = await store.page(q, PAGE_BYTES);
  const last = calls.at(-1);
  const nextBefore: CallsPage["nextBefore"] = more && last ? last.processId : null;
  return chunked(pageParts(calls, nextBefore));
}

function* pageParts(calls: CallRecord[], nextBefore: string | null): Generator<string> {
  yield '{"calls":[';
  for (let i = 0; i < calls.length; i++) {
    if (i > 0) yield ",";
    yield* callJsonParts(callToJson(calls[i]!));
  }
  yield `],"nextBefore":${JSON.stringify(nextBefore)}}`;
}

/** JSON.stringify(call), in parts: payloads as jsonString() writes them. */
function* callJsonParts(call: CallJson): Generator<string> {
  let sep = "{";
  for (const [key, value] of Object.entries(call)) {
    if (value === undefined) continue;
    if (key === "request" || key === "reply") {
      const p = value as PayloadView;
      yield `${sep}${JSON.stringify(key)}:{"payloadBase64":`;
      yield* jsonString(p.payloadBase64);
      if (p.payloadText !== undefined) {
        yield ',"payloadText":';
        yield* jsonString(p.payloadText);
      }
      yield "}";
    } else yield `${sep}${JSON.stringify(key)}:${JSON.stringify(value)}`;
    sep = ",";
  }
  yield "}";
}

/** JSON.stringify(s), in parts of at most SLICE_CHARS characters before escaping. */
function* jsonString(s: string): Generator<string> {
  if (s.length <= SLICE_CHARS) {
    yield JSON.stringify(s);
    return;
  }
  yield '"';
  for (let i = 0; i < s.length;) {
    let end = Math.min(i + SLICE_CHARS, s.length);
    // A surrogate pair stays whole: JSON.stringify escapes each half of a split one as \udxxx.
    const last = s.charCodeAt(end - 1);
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end++;
    yield JSON.stringify(s.slice(i, end)).slice(1, -1);
    i = end;
  }
  yield '"';
}

/** Small pieces joined up to CHUNK_CHARS per write. */
export async function* chunked(parts: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  let chunk = "";
  for await (const part of parts) {
    chunk += part;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

export async function getCall(store: CallStore, messageId: number): Promise<CallJson> {
  const call = await store.get(messageId);
  if (!call) throw new DomainError("call_not_found", `no call with processId ${messageId}`);
  return callToJson(call);
}

const EXPORT_PAGE = 1000;
const CSV_COLUMNS = [
  "processId",
  "productId",
  "deviceName",
  "status",
  "startedAt",
  "endedAt",
  "rttMs",
  "timeoutMs",
  "requestBase64",
  "requestText",
  "replyBase64",
  "replyText",
  "callerKind",
  "callerId",
  "callerName",
  "batchId",
  "commandId",
] as const;

/**
 * A CSV cell. Text that a spreadsheet would run as a formula (it starts with = + - @, a tab or
 * a carriage return) gets a leading apostrophe: payloads come from devices and operators.
 */
function csvCell(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = typeof v === "string" && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function* csvRowParts(c: CallJson): Generator<string> {
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | undefined> = {
    processId: c.processId,
    productId: c.productId,
    deviceName: c.deviceName,
    status: c.status,
    startedAt: c.startedAt,
    endedAt: c.endedAt,
    rttMs: c.rttMs,
    timeoutMs: c.timeoutMs,
    requestBase64: c.request.payloadBase64,
    requestText: c.request.payloadText,
    replyBase64: c.reply?.payloadBase64,
    replyText: c.reply?.payloadText,
    callerKind: c.caller?.kind,
    callerId: c.caller?.id,
    callerName: c.caller?.name,
    batchId: c.batchId,
    commandId: c.commandId,
  };
  for (let i = 0; i < CSV_COLUMNS.length; i++) {
    if (i > 0) yield ",";
    yield csvCell(values[CSV_COLUMNS[i]!]);
  }
  yield "\r\n";
}

/**
 * Every call matching the filter, newest first, as CSV or a JSON array, read page by page while
 * the consumer reads (one long SQLite iteration would hold up the hub's batched writes) and
 * written call by call.
 */
export function exportCalls(store: CallStore, q: ExportCallsInput): AsyncGenerator<string> {
  return chunked(exportParts(store, q));
}

async function* exportParts(store: CallStore, q: ExportCallsInput): AsyncGenerator<string> {
  const { format, ...filter } = q;
  yield format === "csv" ? CSV_COLUMNS.join(",") + "\r\n" : "[";
  let before: number | undefined;
  let first = true;
  for (;;) {
    const { calls: page, more } = await store.page({ ...filter, before, limit: EXPORT_PAGE }, PAGE_BYTES);
    for (const c of page) {
      const json = callToJson(c);
      if (format === "csv") yield* csvRowParts(json);
      else {
        if (!first) yield ",";
        yield* callJsonParts(json);
      }
      first = false;
    }
    if (!more || page.length === 0) break;
    before = page.at(-1)!.messageId;
  }
  if (format === "json") yield "]";
}
