import "server-only";
import { isBase64 } from "../rrpc/payload";
import type { CreateCallInput, ExportCallsInput, ListCallsInput } from "../rrpc/schemas";
import type { CallJson } from "../rrpc/types";
import { callToJson, type CallSource } from "./call";
import { ApiError, OUTCOME_ERRORS } from "./errors";
import { errorResponse } from "./http";
import { getRuntime, LIVE_CLIENT_PREFIX } from "./runtime";

export { getRuntime };

/** Room for the JSON envelope and base64 growth (4/3) around the largest payload. */
export async function maxBodyBytes(): Promise<number> {
  const rt = await getRuntime();
  return Math.ceil(rt.config.maxPayloadBytes * 1.4) + 4096;
}

export function decodePayload(payload: string, encoding: "utf8" | "base64"): Buffer {
  if (encoding === "utf8") return Buffer.from(payload, "utf8");
  if (!isBase64(payload)) {
    throw new ApiError("invalid_request", "payload is not valid base64", [{ field: "payload", message: "not valid base64" }]);
  }
  return Buffer.from(payload, "base64");
}

/** Makes the call and answers with it: 200 on success, the outcome's error code otherwise. */
export async function createCall(input: CreateCallInput, source: CallSource = "api"): Promise<Response> {
  const rt = await getRuntime();
  const call = await rt.hub.call({
    productId: input.productId,
    deviceName: input.deviceName,
    payload: decodePayload(input.payload, input.encoding),
    timeoutMs: input.timeoutMs,
    source,
  });
  const json = callToJson(call);
  if (call.status === "success") return Response.json(json);
  const outcome = OUTCOME_ERRORS[call.status as keyof typeof OUTCOME_ERRORS];
  return errorResponse(new ApiError(outcome.code, outcome.message), json);
}

export async function listCalls(q: ListCallsInput) {
  const rt = await getRuntime();
  const calls = rt.store.list(q);
  const last = calls.at(-1);
  return { calls: calls.map(callToJson), nextBefore: calls.length === q.limit && last ? last.processId : null };
}

export async function getCall(messageId: number) {
  const rt = await getRuntime();
  const call = rt.store.get(messageId);
  if (!call) throw new ApiError("not_found", `no call with processId ${messageId}`);
  return callToJson(call);
}

export async function health() {
  const rt = await getRuntime();
  return {
    ok: rt.hub.isReady,
    broker: rt.broker ? "embedded" : "external",
    brokerConnected: rt.hub.isReady,
    inFlight: rt.hub.inFlight,
    mqtt: rt.broker ? { tcpPort: rt.broker.tcpPort, wsPort: rt.broker.wsPort, wsPath: "/mqtt" } : null,
    simulator: rt.simulator ? { productId: "AIRCOND001", deviceName: "airConditioner1" } : null,
  };
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

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
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
 * Every call matching the filter, newest first, streamed page by page (a long SQLite
 * iteration would block the hub's batched writes on the same connection).
 */
export async function exportCalls(q: ExportCallsInput): Promise<Response> {
  const rt = await getRuntime();
  const { format, ...filter } = q;
  const encoder = new TextEncoder();
  let before: number | undefined;
  let first = true;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const page = rt.store.list({ ...filter, before, limit: EXPORT_PAGE });
      let chunk = "";
      if (first) chunk += format === "csv" ? CSV_COLUMNS.join(",") + "\r\n" : "[";
      for (const [i, c] of page.entries()) {
        const json = callToJson(c);
        chunk += format === "csv" ? csvRow(json) : (first && i === 0 ? "" : ",") + JSON.stringify(json);
      }
      first = false;
      if (page.length < EXPORT_PAGE) {
        if (format === "json") chunk += "]";
        controller.enqueue(encoder.encode(chunk));
        controller.close();
        return;
      }
      before = page.at(-1)!.messageId;
      controller.enqueue(encoder.encode(chunk));
    },
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return new Response(stream, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="rrpc-calls-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
}

export type DeviceSummary = {
  productId: string;
  deviceName: string;
  online: boolean | null;
  calls: number;
  successRate: number | null;
  lastCall: { processId: string; status: string; at: string } | null;
  p50Ms: number | null;
  p95Ms: number | null;
};

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 1000) / 1000;
}

/** Devices seen in calls or online now; online is null with an external broker (unknown). */
export async function listDevices(): Promise<{ devices: DeviceSummary[] }> {
  const rt = await getRuntime();
  const key = (p: string, d: string) => `${p}/${d}`;
  const online = rt.broker ? new Set(rt.broker.onlineDevices().map((d) => key(d.productId, d.deviceName))) : null;
  const byKey = new Map<string, DeviceSummary>();
  for (const s of rt.store.deviceStats()) {
    const sorted = [...s.recentRtts].sort((a, b) => a - b);
    byKey.set(key(s.productId, s.deviceName), {
      productId: s.productId,
      deviceName: s.deviceName,
      online: online ? online.has(key(s.productId, s.deviceName)) : null,
      calls: s.calls,
      successRate: s.calls ? s.successes / s.calls : null,
      lastCall: { processId: s.lastProcessId, status: s.lastStatus, at: new Date(s.lastAt).toISOString() },
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
    });
  }
  for (const d of rt.broker?.onlineDevices() ?? []) {
    if (!byKey.has(key(d.productId, d.deviceName))) {
      byKey.set(key(d.productId, d.deviceName), { ...d, online: true, calls: 0, successRate: null, lastCall: null, p50Ms: null, p95Ms: null });
    }
  }
  const devices = [...byKey.values()].sort((a, b) => a.productId.localeCompare(b.productId) || a.deviceName.localeCompare(b.deviceName));
  return { devices };
}

/**
 * Where a browser's live view connects. The page's own host name is used by the browser unless
 * MQTT_WS_PUBLIC_URL names the broker's WebSocket endpoint explicitly.
 */
export async function liveConfig() {
  const rt = await getRuntime();
  return {
    url: process.env.MQTT_WS_PUBLIC_URL ?? null,
    port: rt.broker?.wsPort ?? null,
    path: "/mqtt",
    clientIdPrefix: LIVE_CLIENT_PREFIX,
  };
}
