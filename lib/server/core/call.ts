import { payloadView } from "../../rrpc/payload";
import type { CallCaller, CallEvent, CallEventType, CallJson, CallStatus } from "../../rrpc/types";

/**
 * Sub-millisecond monotonic time (`now`, read as epoch ms by `epoch`) and the timers that go with
 * it. The hub takes one, so that tests can drive time instead of waiting for it.
 */
export type Clock = {
  now(): number;
  epoch(mono: number): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
};

export const clock: Clock = {
  now: () => performance.now(),
  epoch: (mono: number) => performance.timeOrigin + mono,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export type StoredEvent = { type: CallEventType; t: number; detail?: CallEvent["detail"] };

export type CallSource = "api" | "dashboard" | "tencent" | "batch";

/** One call as the hub and the store hold it. */
export type CallRecord = {
  processId: string;
  messageId: number;
  productId: string;
  deviceName: string;
  source: CallSource;
  status: CallStatus;
  request: Uint8Array;
  reply?: Uint8Array;
  timeoutMs: number;
  /** Epoch ms (monotonic-derived) when the call was requested; event `t`s are relative to it. */
  startedAt: number;
  endedAt?: number;
  rttMs?: number;
  events: StoredEvent[];
  /** The batch that made the call, if one did. */
  batchId?: string;
  /** The saved command whose template gave the payload, if one did. */
  commandId?: string;
  /** Who made the call (absent on calls recorded before callers were). */
  caller?: CallCaller;
  /** The caller's correlation token (POST /api/calls `clientRef`): in the live feed, not in the store. */
  clientRef?: string;
};

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function callToJson(c: CallRecord): CallJson {
  const json: CallJson = {
    processId: c.processId,
    messageId: c.messageId,
    productId: c.productId,
    deviceName: c.deviceName,
    status: c.status,
    request: payloadView(c.request, Buffer.from(c.request).toString("base64")),
    timeoutMs: c.timeoutMs,
    startedAt: new Date(c.startedAt).toISOString(),
    events: c.events.map((e) => eventToJson(c, e)),
  };
  if (c.reply) json.reply = payloadView(c.reply, Buffer.from(c.reply).toString("base64"));
  if (c.endedAt !== undefined) json.endedAt = new Date(c.endedAt).toISOString();
  if (c.rttMs !== undefined) json.rttMs = round3(c.rttMs);
  if (c.batchId !== undefined) json.batchId = c.batchId;
  if (c.commandId !== undefined) json.commandId = c.commandId;
  if (c.caller !== undefined) json.caller = c.caller;
  return json;
}

export function eventToJson(c: CallRecord, e: StoredEvent): CallEvent {
  const out: CallEvent = { type: e.type, at: new Date(c.startedAt + e.t).toISOString(), t: round3(e.t) };
  if (e.detail) out.detail = e.detail;
  return out;
}
