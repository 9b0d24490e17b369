import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { StoreWriter } from "./writer";
import { Store } from "./store";
import { tempDir, waitFor } from "../testing/servers";

describe("store writer thread", () => {
  it("tells its owner when the worker cannot open the database", async () => {
    const unavailable = new Promise<StoreWriter>((resolve) => {
      const w: StoreWriter = new StoreWriter(
        join(tempDir(), "missing", "dir", "x.db"),
        () => {},
        () => resolve(w),
      );
    });
    expect((await unavailable).available).toBe(false);
  });

  it("loses no call when the thread dies: what it had not committed is written on the store's own connection", async () => {
    const path = join(tempDir(), "crash.db");
    const s = new Store(path);
    const ids: number[] = [];
    const make = (n: number) => {
      for (let i = 0; i < n; i++) {
        const { processId, messageId } = s.allocateProcessId();
        ids.push(messageId);
        s.save({
          processId,
          messageId,
          productId: "PROD000001",
          deviceName: "d",
          source: "api",
          status: "success",
          request: Buffer.from(`r${i}`),
          timeoutMs: 4000,
          startedAt: Date.now(),
          endedAt: Date.now(),
          events: [{ type: "requested", t: 0 }],
        });
      }
    };
    make(500);
    s.flush();
    const flushed = s.writer!.postedSeq;
    make(500);
    await waitFor(() => s.writer!.postedSeq > flushed, "the timed batch to be posted");
    await s.writer!.worker.terminate();
    make(500);
    expect(s.list({ limit: 10_000 }).map((c) => c.messageId)).toEqual([...ids].reverse());
    expect(s.writer!.available).toBe(false);
    s.close();
    const again = new Store(path);
    expect(again.list({ limit: 10_000 }).length).toBe(1500);
    expect(again.get(ids[700]!)!.request.toString()).toBe("r200");
    again.close();
  });
});
