import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Checkpointer } from "./checkpointer";
import { tempDir } from "./testing";

describe("checkpointer", () => {
  it("tells its owner when the worker cannot open the database, so SQLite's own checkpoints take over", async () => {
    const unavailable = new Promise<boolean>((resolve) => {
      const c = new Checkpointer(join(tempDir(), "missing", "dir", "x.db"), () => resolve(true));
      setTimeout(() => (c.stop(), resolve(false)), 5000);
    });
    expect(await unavailable).toBe(true);
  });
});
