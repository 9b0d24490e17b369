import { base64ToBytes, bytesToBase64, strictUtf8 } from "./payload";
import type { CallCaller, CallEventType, CallStatus } from "./types";

/**
 * The hub's live feed for dashboards, published on the same broker as the RRPC traffic.
 * Outcomes that never appear as MQTT traffic (timeout, offline, busy, late replies) reach
 * browsers this way. Updates are batched: one message carries every change of a short window.
 */
export const LIVE_CALLS_TOPIC = "rrpc-hub/calls";
export const LIVE_PRESENCE_TOPIC = "rrpc-hub/presence";
/** Batches' progress: an array of BatchJson (lib/rrpc/batch.ts), each batch as of the window's end. */
export const LIVE_BATCHES_TOPIC = "rrpc-hub/batches";
/** What a dashboard subscribes to: every RRPC request and reply, and the hub's feed. */
export const LIVE_FILTERS = ["$rrpc/rxd/#", "$rrpc/txd/#", "rrpc-hub/#"] as const;

export const PREVIEW_BYTES = 256;

export type PayloadPreview = {
  bytes: number;
  /** UTF-8 text of the first PREVIEW_BYTES bytes, when they decode. */
  text?: string;
  /** Base64 of the first PREVIEW_BYTES bytes, when they are not text. */
  base64?: string;
  truncated: boolean;
};

export type LiveCallUpdate = {
  processId: string;
  productId: string;
  deviceName: string;
  status: CallStatus;
  event: CallEventType;
  /** ms since the call was requested */
  t: number;
  /** epoch ms of the event */
  at: number;
  timeoutMs: number;
  rttMs?: number;
  request?: PayloadPreview;
  reply?: PayloadPreview;
  caller?: CallCaller;
  batchId?: string;
  /** The caller's correlation token, when it sent one (POST /api/calls `clientRef`): on every update of the call. */
  clientRef?: string;
};

export type LivePresence = { productId: string; deviceName: string; online: boolean; at: number };

/** `total`: the payload's size when `bytes` is only its start (previewBase64). */
export function preview(bytes: Uint8Array, total = bytes.byteLength): PayloadPreview {
  const head = bytes.subarray(0, PREVIEW_BYTES);
  const truncated = total > PREVIEW_BYTES;
  // A cut can split a multi-byte character: drop up to 3 trailing bytes before giving up on text.
  for (let cut = 0; cut <= (truncated ? 3 : 0); cut++) {
    const text = strictUtf8(head.subarray(0, head.byteLength - cut));
    if (text !== undefined) return { bytes: total, text, truncated: truncated || cut > 0 };
  }
  return { bytes: total, base64: bytesToBase64(head), truncated };
}

/** The preview of a payload given as base64 (a stored call), decoding only its start. */
export function previewBase64(b64: string): PayloadPreview {
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  const total = (b64.length / 4) * 3 - padding;
  // 4 base64 characters are 3 bytes: a few bytes past the preview, cut on a 4-character boundary.
  const head = base64ToBytes(b64.slice(0, Math.ceil((PREVIEW_BYTES + 3) / 3) * 4));
  return preview(head, total);
}

export function previewLabel(p: PayloadPreview | undefined): string {
  if (!p) return "";
  const body = p.text !== undefined ? p.text : `base64:${p.base64}`;
  return p.truncated ? `${body}…` : body;
}
