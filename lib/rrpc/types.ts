import type { PayloadView } from "./payload";

/** Every call ends in exactly one of these. */
export const TERMINAL_STATUSES = [
  "success",
  "timeout",
  "reply_too_large",
  "offline",
  "not_subscribed",
  "broker_unavailable",
  "busy",
  "interrupted",
] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type CallStatus = "pending" | TerminalStatus;
export const CALL_STATUSES: readonly CallStatus[] = ["pending", ...TERMINAL_STATUSES];

export type CallEventType = "requested" | "published" | "delivered" | "replied" | TerminalStatus | "foreign_reply" | "late_reply" | "duplicate_reply";

export type CallEvent = {
  type: CallEventType;
  /** Wall-clock time in ISO 8601, read from a monotonic clock anchored at process start. */
  at: string;
  /** Milliseconds since the call was requested (monotonic, sub-millisecond). */
  t: number;
  detail?: Record<string, string | number | boolean>;
};

/** Who made a call: a signed-in operator, an API key (native API or Tencent's), a batch, or a loopback caller while sign-in is off. */
export const CALLER_KINDS = ["operator", "api_key", "tencent_key", "batch", "local"] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];
export type CallCaller = { kind: CallerKind; id: string; name: string };

export type CallJson = {
  processId: string;
  messageId: number;
  productId: string;
  deviceName: string;
  status: CallStatus;
  request: PayloadView;
  reply?: PayloadView;
  timeoutMs: number;
  startedAt: string;
  endedAt?: string;
  rttMs?: number;
  events: CallEvent[];
  batchId?: string;
  commandId?: string;
  caller?: CallCaller;
};

export const DEFAULT_TIMEOUT_MS = 4000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 300_000;
/** Whether a timeout is one the hub takes: a whole number of ms from MIN_TIMEOUT_MS to MAX_TIMEOUT_MS. */
export const timeoutInRange = (ms: number) => Number.isInteger(ms) && ms >= MIN_TIMEOUT_MS && ms <= MAX_TIMEOUT_MS;
/** What the console says of a timeout out of range. */
export const TIMEOUT_RANGE_MESSAGE = `the timeout must be a whole number of ms from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`;

export const DEFAULT_MAX_PAYLOAD_BYTES = 128 * 1024;
export const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;

/** What the API and the console say of a payload over the limit: the payload's size (when known) and the limit, never a body size. */
export function payloadOverLimit(limit: number, bytes?: number): string {
  return bytes === undefined
    ? `the payload is over the limit of ${limit} bytes (RRPC_MAX_PAYLOAD)`
    : `the payload is ${bytes} bytes; the limit is ${limit} (RRPC_MAX_PAYLOAD)`;
}

/** A payload over its product's request-size limit (PUT /api/products/{productId}), in the API's words. */
export function productPayloadOverLimit(productId: string, limit: number, bytes: number): string {
  return `the payload is ${bytes} bytes; product ${productId} accepts at most ${limit} (its devices' receive buffer)`;
}

/** The largest payload a call to `productId` may carry: RRPC_MAX_PAYLOAD, or the product's limit when lower. */
export function effectiveRequestLimit(maxPayloadBytes: number, productLimit: number | null | undefined): number {
  return productLimit != null && productLimit < maxPayloadBytes ? productLimit : maxPayloadBytes;
}

/** What the hub says of a payload of `bytes` for `productId` (calls/hub.ts), or undefined when it may be sent. */
export function requestOverLimit(
  productId: string,
  bytes: number,
  maxPayloadBytes: number,
  productLimit: number | null | undefined,
): string | undefined {
  if (productLimit != null && productLimit < maxPayloadBytes && bytes > productLimit) return productPayloadOverLimit(productId, productLimit, bytes);
  return bytes > maxPayloadBytes ? payloadOverLimit(maxPayloadBytes, bytes) : undefined;
}

export type ReplyOverLimit = { bytes: number; limit: number };

/** For a call that ended `reply_too_large`: the reply's size and the limit it passed (its terminal event's detail). */
export function replyOverLimit(call: {
  status: CallStatus;
  events: readonly { type: string; detail?: CallEvent["detail"] }[];
}): ReplyOverLimit | null {
  if (call.status !== "reply_too_large") return null;
  const detail = call.events.find((e) => e.type === "reply_too_large")?.detail;
  return typeof detail?.bytes === "number" && typeof detail.limit === "number" ? { bytes: detail.bytes, limit: detail.limit } : null;
}

/** A device as the dashboard lists it (GET /api/devices). */
export type DeviceSummary = {
  productId: string;
  deviceName: string;
  /** In the registry (may log in); false for devices only seen in past calls. */
  registered: boolean;
  disabled: boolean;
  createdAt: string | null;
  online: boolean | null;
  calls: number;
  successRate: number | null;
  lastCall: { processId: string; status: CallStatus; at: string } | null;
  p50Ms: number | null;
  p95Ms: number | null;
};
