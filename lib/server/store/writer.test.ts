import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { StoreWriter } from "./writer";
import { Store } from "./store";
import { tempDir } from "../testing/servers";

describe("store writer thread", () => {
  it("tells its owner when the worker cannot open the database", async () => {
    const unavailable = new Promise<boolean>((resolve) => {
      const w = new StoreWriter(join(tempDir(), "missing", "dir", "x.db"), "SELECT 1", () => resolve(true));
      setTimeout(() => (w.stop(), resolve(false)), 5000);
    });
    expect(await unavailable).toBe(true);
  });

  it("loses no call when the thread dies: what it had not committed is written on the store's own connection", async () => {
    const path = join(tempDir(), "crash.db");
    const s = new Store(path);
    const ids: number[] = [];
    const make = (n: number) => {
      for (let i = 0; i < n; i++) {
        const { processId, messageId } = s.allocateProcessId();
        ids.push(messageId);
        s.save({ processId, messageId, productId: "PROD000001", deviceName: "d", source: "api", status: "success", request: Buffer.from(`r${i}`), timeoutMs: 4000, startedAt: Date.now(), endedAt: Date.now(), events: [{ type: "requested", t: 0 }] });
      }
    };
    make(500);
    s.flush();
    make(500);
    await new Promise((r) => setTimeout(r, 30)); // the timed batch is posted
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
