import { describe, expect, it } from "vitest";
import { zeroCounts, type BatchCounts, type BatchJson } from "../rrpc/batch";
import { endedTargets, fresher, mergeBatchList, parseBatchUpdates, progressPercent } from "./batch-merge";

function batch(id: string, counts: Partial<BatchCounts>, status: BatchJson["status"] = "running", startedAt = "2026-01-01T00:00:00.000Z"): BatchJson {
  const c = { ...zeroCounts(), ...counts };
  return {
    batchId: id,
    status,
    total: Object.values(c).reduce((a, n) => a + n, 0),
    counts: c,
    unsent: c.cancelled,
    startedAt,
    payload: { bytes: 1, text: "x", truncated: false },
    timeoutMs: 1000,
    concurrency: 100,
  };
}

describe("batch snapshots from HTTP and the live feed", () => {
  it("keeps the one further along, whatever the order they arrive in", () => {
    const early = batch("b_1", { pending: 40, success: 10 });
    const later = batch("b_1", { pending: 5, success: 45 });
    const done = batch("b_1", { success: 49, timeout: 1 }, "done");
    expect(fresher(undefined, early)).toBe(early);
    expect(fresher(early, later)).toBe(later);
    expect(fresher(later, early)).toBe(later);
    expect(fresher(done, later)).toBe(done);
    expect(fresher(later, done)).toBe(done);
    // Cancelling moves targets from pending to cancelled: forward too.
    const cancelled = batch("b_1", { pending: 2, success: 45, cancelled: 3 });
    expect(fresher(later, cancelled)).toBe(cancelled);
  });

  it("counts progress as ended targets, 100 % only when none is pending", () => {
    expect(endedTargets(batch("b", { pending: 1, success: 49 }))).toBe(49);
    expect(progressPercent(batch("b", { pending: 1, success: 199 }))).toBe(99);
    expect(progressPercent(batch("b", { success: 48, timeout: 1, offline: 1 }, "done"))).toBe(100);
  });

  it("parses live messages, dropping what is not a batch", () => {
    const b = batch("b_2", { success: 1 }, "done");
    expect(parseBatchUpdates(new TextEncoder().encode(JSON.stringify([b, { batchId: 3 }, null])))).toEqual([b]);
    expect(parseBatchUpdates("not json")).toEqual([]);
    expect(parseBatchUpdates('{"batchId":"b"}')).toEqual([]);
  });

  it("applies updates to a list: known batches move on, new ones go on top, newest first", () => {
    const a = batch("b_a", { pending: 2 }, "running", "2026-01-01T00:00:01.000Z");
    const old = batch("b_old", { success: 1 }, "done", "2026-01-01T00:00:00.000Z");
    const aLater = batch("b_a", { success: 2 }, "done", a.startedAt);
    const n1 = batch("b_n1", { pending: 1 }, "running", "2026-01-01T00:00:02.000Z");
    const n2 = batch("b_n2", { pending: 1 }, "running", "2026-01-01T00:00:03.000Z");
    expect(mergeBatchList([a, old], [n1, aLater, n2]).map((b) => [b.batchId, b.status])).toEqual([
      ["b_n2", "running"],
      ["b_n1", "running"],
      ["b_a", "done"],
      ["b_old", "done"],
    ]);
  });
});
