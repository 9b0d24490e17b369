import type { PayloadPreview } from "./live";

/**
 * Calls to many devices (README, "Batches"). Each target of a batch ends in exactly one of
 * these: a call's terminal status, a refusal before anything was published (the device is not
 * registered or is disabled, the store cannot write), or `cancelled` (never sent: the batch was
 * cancelled first). A hub that stops mid-batch ends its unsent targets `interrupted`.
 */
export const BATCH_TARGET_STATUSES = [
  "pending",
  "success",
  "timeout",
  "reply_too_large",
  "offline",
  "not_subscribed",
  "busy",
  "broker_unavailable",
  "interrupted",
  "device_not_found",
  "device_disabled",
  "store_unavailable",
  "cancelled",
] as const;
export type BatchTargetStatus = (typeof BATCH_TARGET_STATUSES)[number];
export type BatchCounts = Record<BatchTargetStatus, number>;
export type BatchStatus = "running" | "done" | "cancelled" | "interrupted";

export const MAX_BATCH_TARGETS = 100_000;
export const MAX_BATCH_CONCURRENCY = 10_000;

export const zeroCounts = (): BatchCounts => Object.fromEntries(BATCH_TARGET_STATUSES.map((s) => [s, 0])) as BatchCounts;

/** GET /api/batches/{batchId} */
export type BatchJson = {
  batchId: string;
  status: BatchStatus;
  total: number;
  counts: BatchCounts;
  /** Targets that never got a call (cancelled, or left unsent by a hub that stopped). */
  unsent: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  commandId?: string;
  params?: Record<string, string | number | boolean>;
  /** The payload sent to every target (the rendered command's, with a command), as a preview. */
  payload: PayloadPreview;
  timeoutMs: number;
  concurrency: number;
  ratePerSecond?: number;
  createdBy?: string;
  /** The batch this one retries. */
  retryOf?: string;
};

/** One target of a batch, as GET /api/batches/{batchId}/targets lists them. */
export type BatchTarget = {
  index: number;
  productId: string;
  deviceName: string;
  status: BatchTargetStatus;
  /** The call made for it; absent when none was (refused, cancelled, not sent yet). */
  processId?: string;
};

/** GET /api/batches/{batchId}/targets: in target order; `after` pages on. */
export type BatchTargetsPage = { targets: BatchTarget[]; nextAfter: number | null };
/** GET /api/batches */
export type BatchList = { batches: BatchJson[] };

/** Whether every target has ended. */
export const batchEnded = (b: Pick<BatchJson, "status">) => b.status !== "running";
