import "server-only";
import type { CreateCallInput, ExportCallsInput, ListCallsInput } from "../../rrpc/schemas";
import type { CallJson, DeviceSummary } from "../../rrpc/types";
import { callToJson, type CallSource } from "../core/call";
import { ApiError } from "../core/errors";
import { toResponse } from "./http";
import { makeCall, maxCallBodyBytes, tencentDeps } from "../calls/service";
import { handleTencentRequest } from "../tencent/publish-rrpc";
import { DEMO_DEVICE, getRuntime, LIVE_CLIENT_PREFIX } from "../runtime/runtime";
import { deviceCredentials, deviceInfoJson } from "../auth/device-auth";
import { LIVE_USERNAME } from "../auth/broker-acl";
import { verifyPassword } from "../auth/tokens";
import { SESSION_TTL_MS, sessionCookie, sessionUser } from "../auth/request-auth";
import { log } from "../core/log";

export { getRuntime };

export async function maxBodyBytes(): Promise<number> {
  return maxCallBodyBytes(await getRuntime());
}

export async function createCall(input: CreateCallInput, source: CallSource = "api"): Promise<Response> {
  return toResponse(await makeCall(await getRuntime(), input, source));
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
    simulator: rt.simulator ? DEMO_DEVICE : null,
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


function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i]! * 1000) / 1000;
}

/** Registered devices and devices seen in calls, with live presence (null with an external broker) and call stats. */
export async function listDevices(): Promise<{ devices: DeviceSummary[] }> {
  const rt = await getRuntime();
  const key = (p: string, d: string) => `${p}/${d}`;
  const online = rt.broker ? new Set(rt.broker.onlineDevices().map((d) => key(d.productId, d.deviceName))) : null;
  const byKey = new Map<string, DeviceSummary>();
  const entry = (productId: string, deviceName: string): DeviceSummary => {
    const k = key(productId, deviceName);
    let e = byKey.get(k);
    if (!e) {
      e = { productId, deviceName, registered: false, disabled: false, createdAt: null, online: online ? online.has(k) : null, calls: 0, successRate: null, lastCall: null, p50Ms: null, p95Ms: null };
      byKey.set(k, e);
    }
    return e;
  };
  for (const d of rt.registry.listDevices()) {
    Object.assign(entry(d.productId, d.deviceName), { registered: true, disabled: d.disabled, createdAt: d.createdAt });
  }
  for (const s of rt.store.deviceStats()) {
    const sorted = [...s.recentRtts].sort((a, b) => a - b);
    Object.assign(entry(s.productId, s.deviceName), {
      calls: s.calls,
      successRate: s.calls ? s.successes / s.calls : null,
      lastCall: { processId: s.lastProcessId, status: s.lastStatus, at: new Date(s.lastAt).toISOString() },
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
    });
  }
  const devices = [...byKey.values()].sort((a, b) => a.productId.localeCompare(b.productId) || a.deviceName.localeCompare(b.deviceName));
  return { devices };
}

/** Registers a device; the answer is the only time its secret is shown. */
export async function createDevice(productId: string, deviceName: string) {
  const rt = await getRuntime();
  return rt.registry.createDevice(productId, deviceName);
}

export async function setDeviceDisabled(productId: string, deviceName: string, disabled: boolean) {
  const rt = await getRuntime();
  return rt.registry.setDisabled(productId, deviceName, disabled);
}

export async function deleteDevice(productId: string, deviceName: string) {
  const rt = await getRuntime();
  rt.registry.deleteDevice(productId, deviceName);
}

/**
 * How to connect a device: its client id and a fresh username/password pair (valid until
 * `expiry`), and the device-info file of Tencent's C SDK with the secret left out (it is shown
 * only when the device is created).
 */
export async function deviceConnectInfo(productId: string, deviceName: string) {
  const rt = await getRuntime();
  const secret = rt.registry.getDeviceSecret(productId, deviceName);
  if (!secret) throw new ApiError("device_not_found", `device ${productId}/${deviceName} does not exist`);
  const expiry = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
  const login = deviceCredentials(productId, deviceName, secret, { expiry });
  return {
    ...login,
    expiresAt: new Date(expiry * 1000).toISOString(),
    mqtt: rt.broker ? { host: rt.config.mqttHost, port: rt.broker.tcpPort } : null,
    deviceInfo: deviceInfoJson(productId, deviceName, DEVICE_SECRET_PLACEHOLDER),
  };
}

export const DEVICE_SECRET_PLACEHOLDER = "<device secret, shown once when the device was created>";

export async function listApiKeys() {
  const rt = await getRuntime();
  return { keys: rt.registry.listApiKeys() };
}

/** A new SecretId/SecretKey pair; the key is shown only in this answer. */
export async function createApiKey(name?: string) {
  const rt = await getRuntime();
  return rt.registry.createApiKey(name);
}

export async function revokeApiKey(secretId: string) {
  const rt = await getRuntime();
  return rt.registry.revokeApiKey(secretId);
}

/** The operator session: whether sign-in is required and who is signed in. */
export async function session(cookieValue: string | null) {
  const rt = await getRuntime();
  return { required: rt.config.operator !== null, user: sessionUser(rt, cookieValue) };
}

/** Checks the operator's password (scrypt) and answers with a session cookie. */
export async function signIn(user: string, password: string, secure: boolean): Promise<Response> {
  const rt = await getRuntime();
  const op = rt.config.operator;
  if (!op) throw new ApiError("invalid_request", "sign-in is not enabled: this hub listens on loopback only and has no operator configured");
  const good = user === op.user && verifyPassword(password, op.passwordHash);
  if (!good) {
    log.warn("operator sign-in failed", { user });
    throw new ApiError("unauthorized", "wrong user name or password");
  }
  const { token } = rt.sessions.sign(user, SESSION_TTL_MS);
  return Response.json({ user }, { headers: { "set-cookie": sessionCookie(token, SESSION_TTL_MS, secure) } });
}

export function signOut(secure: boolean): Response {
  return new Response(null, { status: 204, headers: { "set-cookie": sessionCookie("", 0, secure) } });
}

export const LIVE_TOKEN_TTL_MS = 10 * 60 * 1000;

/**
 * Where and how a browser's live view connects: a short-lived, read-only MQTT credential
 * (embedded broker). The page's own host name is used unless MQTT_WS_PUBLIC_URL is set.
 */
export async function liveConfig() {
  const rt = await getRuntime();
  const token = rt.broker ? rt.liveTokens.sign("live", LIVE_TOKEN_TTL_MS) : null;
  return {
    url: rt.config.mqttWsPublicUrl ?? null,
    port: rt.broker?.wsPort ?? null,
    path: "/mqtt",
    clientIdPrefix: LIVE_CLIENT_PREFIX,
    username: token ? LIVE_USERNAME : null,
    password: token?.token ?? null,
    expiresAt: token?.expiresAt ?? null,
  };
}

/** Tencent Cloud API 3.0 PublishRRPCMessage, for the official SDKs (always HTTP 200). */
export async function tencentApi(req: Request): Promise<Response> {
  // proxy.ts rewrites `/` to /api/tencent, which replaces Host; the signed one is kept here.
  return handleTencentRequest(req, tencentDeps(await getRuntime(), req.headers.get("x-forwarded-host")));
}
