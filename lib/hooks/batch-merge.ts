/**
 * Batches as the browser sees them: snapshots come both from HTTP (SWR) and from the live feed
 * (topic rrpc-hub/batches, lib/rrpc/live.ts), in any order. A batch only moves forward (targets
 * end, it ends), so of two snapshots the one further along is kept. Pure, for tests.
 */
import { BATCH_TARGET_STATUSES, type BatchJson } from "../rrpc/batch";

/** Targets that have their outcome (every status but `pending`). */
export const endedTargets = (b: Pick<BatchJson, "total" | "counts">) => b.total - b.counts.pending;

/** Percent of targets ended, rounded down: 100 only once every target has its outcome. */
export const progressPercent = (b: Pick<BatchJson, "total" | "counts">) => (b.total === 0 ? 100 : Math.floor((endedTargets(b) * 100) / b.total));

/** Of two snapshots of one batch, the later one (ties go to `next`). */
export function fresher(current: BatchJson | undefined, next: BatchJson): BatchJson {
  if (!current || current.batchId !== next.batchId) return next;
  const currentEnded = current.status !== "running";
  const nextEnded = next.status !== "running";
  if (currentEnded !== nextEnded) return nextEnded ? next : current;
  return endedTargets(next) >= endedTargets(current) ? next : current;
}

function isBatchJson(x: unknown): x is BatchJson {
  if (typeof x !== "object" || x === null) return false;
  const b = x as Partial<BatchJson>;
  return (
    typeof b.batchId === "string" &&
    typeof b.status === "string" &&
    typeof b.total === "number" &&
    typeof b.counts === "object" &&
    b.counts !== null &&
    BATCH_TARGET_STATUSES.every((s) => typeof b.counts![s] === "number")
  );
}

/** A live message's batches; anything malformed is dropped (it never breaks a page). */
export function parseBatchUpdates(payload: Uint8Array | string): BatchJson[] {
  try {
    const parsed: unknown = JSON.parse(typeof payload === "string" ? payload : new TextDecoder().decode(payload));
    return Array.isArray(parsed) ? parsed.filter(isBatchJson) : [];
  } catch {
    return [];
  }
}

/** A list (newest first) with live updates applied: known batches move on, new ones go on top. */
export function mergeBatchList(list: readonly BatchJson[], updates: readonly BatchJson[]): BatchJson[] {
  const out = [...list];
  const fresh: BatchJson[] = [];
  for (const u of updates) {
    const i = out.findIndex((b) => b.batchId === u.batchId);
    if (i >= 0) out[i] = fresher(out[i], u);
    else {
      const j = fresh.findIndex((b) => b.batchId === u.batchId);
      if (j >= 0) fresh[j] = fresher(fresh[j], u);
      else fresh.push(u);
    }
  }
  // Batches started since the list was loaded, newest first.
  fresh.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return [...fresh, ...out];
}
