import type { CallsPage } from "../../rrpc/api";
import type { ExportCallsInput, ListCallsInput } from "../../rrpc/schemas";
import type { CallJson } from "../../rrpc/types";
import { callToJson } from "../core/call";
import { DomainError } from "../core/errors";
import type { Store } from "../store/store";

export function listCalls(store: Store, q: ListCallsInput): CallsPage {
  const calls = store.list(q);
  const last = calls.at(-1);
  return { calls: calls.map(callToJson), nextBefore: calls.length === q.limit && last ? last.processId : null };
}

export function getCall(store: Store, messageId: number): CallJson {
  const call = store.get(messageId);
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

function csvRow(c: CallJson): string {
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
  };
  return CSV_COLUMNS.map((k) => csvCell(values[k])).join(",") + "\r\n";
}

/**
 * Every call matching the filter, newest first, as CSV or a JSON array, produced page by page
 * while the consumer reads (one long SQLite iteration would hold up the hub's batched writes).
 */
export async function* exportCalls(store: Store, q: ExportCallsInput): AsyncGenerator<string> {
  const { format, ...filter } = q;
  let before: number | undefined;
  let first = true;
  yield format === "csv" ? CSV_COLUMNS.join(",") + "\r\n" : "[";
  for (;;) {
    const page = store.list({ ...filter, before, limit: EXPORT_PAGE });
    let chunk = "";
    for (const c of page) {
      const json = callToJson(c);
      chunk += format === "csv" ? csvRow(json) : (first ? "" : ",") + JSON.stringify(json);
      first = false;
    }
    if (page.length < EXPORT_PAGE) {
      yield format === "json" ? chunk + "]" : chunk;
      return;
    }
    before = page.at(-1)!.messageId;
    yield chunk;
  }
}
