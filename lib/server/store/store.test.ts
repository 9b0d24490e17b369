import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { FLUSH_SLICE, Store, listQuery } from "./store";
import { tempDir, waitFor } from "../testing/servers";
import type { CallRecord } from "../core/call";
import { callToJson } from "../core/call";

function record(store: Store, over: Partial<CallRecord> = {}): CallRecord {
  const { processId, messageId } = store.allocateProcessId();
  return {
    processId,
    messageId,
    productId: "PROD000001",
    deviceName: "dev1",
    source: "api",
    status: "pending",
    request: Buffer.from("closed"),
    timeoutMs: 4000,
    startedAt: Date.now(),
    events: [{ type: "requested", t: 0 }],
    ...over,
  };
}

describe("store", () => {
  it("never reissues or shrinks a processId across reopen, even after a crash mid-block", () => {
    const path = join(tempDir(), "ids.db");
    const a = new Store(path);
    const first = a.allocateProcessId();
    const second = a.allocateProcessId();
    expect(second.messageId).toBe(first.messageId + 1);
    // Simulate a crash: the file is reopened without close(), nothing of the block was saved as calls.
    const b = new Store(path);
    const third = b.allocateProcessId();
    expect(third.messageId).toBeGreaterThan(second.messageId);
    expect(third.processId.length).toBe(first.processId.length);
    b.close();
    a.close();
  });

  it("hands out no id past a reservation it could not write, and never reissues one (finding 8)", () => {
    const path = join(tempDir(), "full.db");
    const a = new Store(path);
    const first = a.allocateProcessId();
    let last = first;
    // Use up the first block, then make the next reservation fail as a full disk would.
    while (last.messageId + 1 < first.messageId + 1000) last = a.allocateProcessId();
    a.db.exec(`CREATE TRIGGER full BEFORE UPDATE ON meta BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    for (let i = 0; i < 3; i++) {
      expect(() => a.allocateProcessId()).toThrow(expect.objectContaining({ reason: "store_unavailable" }));
    }
    // Restart while the disk is still full: the reservation on disk still covers every id handed out.
    const b = new Store(path);
    a.db.exec("DROP TRIGGER full");
    const next = b.allocateProcessId();
    expect(next.messageId).toBe(last.messageId + 1);
    b.close();
    a.close();
  });

  it("checkpoints the WAL on its worker thread: the rows reach the database file and the WAL starts over", async () => {
    const path = join(tempDir(), "wal.db");
    const every = 100;
    const s = new Store(path, { checkpointEveryMs: every });
    const size = (f: string) => statSync(f).size;
    const write = (n: number) => {
      for (let i = 0; i < n; i++) s.save(record(s, { status: "success", request: Buffer.alloc(200, 65), endedAt: Date.now(), rttMs: 1 }));
      s.flush();
    };
    const emptyDb = size(path);
    // The hub's own connection never checkpoints (wal_autocheckpoint = 0), so growth of the
    // database file is the worker's doing.
    expect(s.db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    // Every frame of the WAL copied into the database file, as the WAL index says: nBackfill
    // (offset 96) has reached mxFrame (offset 16), native byte order (sqlite.org/walformat.html).
    const checkpointed = () =>
      waitFor(() => {
        const shm = readFileSync(`${path}-shm`);
        const u32 = (at: number) => (endianness() === "LE" ? shm.readUInt32LE(at) : shm.readUInt32BE(at));
        return u32(16) > 0 && u32(96) === u32(16);
      }, "the worker's checkpoint");
    write(5000);
    const walAfterFirst = size(`${path}-wal`);
    await checkpointed();
    expect(size(path)).toBeGreaterThan(emptyDb + 5000 * 200);
    // Once checkpointed, the next writes go to the start of the WAL: over many rounds it stays
    // the size of about one round instead of growing with everything ever written.
    for (let round = 0; round < 4; round++) {
      write(5000);
      await checkpointed();
    }
    expect(size(`${path}-wal`)).toBeLessThanOrEqual(walAfterFirst * 1.5);
    expect(s.list({ limit: 30000 }).length).toBe(25000);
    s.close();
  });

  it("writes each call's latest state in batches and reads it back as it was", () => {
    const path = join(tempDir(), "calls.db");
    const s = new Store(path);
    const c = record(s, { request: Buffer.from([0, 1, 2]) });
    s.save(c);
    c.status = "success";
    c.reply = Buffer.from("ok");
    c.events.push({ type: "replied", t: 1.25, detail: { bytes: 2 } }, { type: "success", t: 1.25 });
    c.endedAt = c.startedAt + 1.25;
    c.rttMs = 1.25;
    s.save(c);
    const got = s.get(c.messageId)!;
    expect(callToJson(got)).toEqual(callToJson(c));
    s.close();
    const again = new Store(path);
    expect(callToJson(again.get(c.messageId)!)).toEqual(callToJson(c));
    again.close();
  });

  it("lists newest first with filters and a processId cursor", () => {
    const s = new Store(join(tempDir(), "list.db"));
    const calls = Array.from({ length: 7 }, (_, i) => record(s, { deviceName: i % 2 ? "odd" : "even", status: i % 3 === 0 ? "timeout" : "success" }));
    for (const c of calls) s.save(c);
    const page1 = s.list({ limit: 3 });
    expect(page1.map((c) => c.messageId)).toEqual([calls[6]!, calls[5]!, calls[4]!].map((c) => c.messageId));
    const page2 = s.list({ limit: 3, before: page1.at(-1)!.messageId });
    expect(page2.map((c) => c.messageId)).toEqual([calls[3]!, calls[2]!, calls[1]!].map((c) => c.messageId));
    expect(s.list({ limit: 10, deviceName: "odd" }).map((c) => c.messageId)).toEqual([calls[5]!, calls[3]!, calls[1]!].map((c) => c.messageId));
    expect(s.list({ limit: 10, status: "timeout" }).map((c) => c.messageId)).toEqual([calls[6]!, calls[3]!, calls[0]!].map((c) => c.messageId));
    expect(s.list({ limit: 10, productId: "NOPE" })).toEqual([]);
    s.close();
  });

  it("keeps successes out of the status index, and finds other statuses through it", () => {
    const s = new Store(join(tempDir(), "status.db"));
    for (let i = 0; i < 50; i++) s.save(record(s, { status: i % 10 === 0 ? "timeout" : "success" }));
    s.flush();
    const indexed = s.db.prepare(`SELECT count(*) AS n FROM calls INDEXED BY calls_not_success WHERE status <> 'success'`).get() as { n: number };
    expect(indexed.n).toBe(5);
    const plan = (status: "timeout" | "pending" | "success") => {
      const q = listQuery({ status, limit: 10 });
      return (s.db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as { detail: string }[]).map((r) => r.detail).join("; ");
    };
    expect(plan("timeout")).toContain("calls_not_success");
    expect(plan("pending")).toContain("calls_not_success");
    expect(plan("success")).not.toContain("calls_not_success");
    expect(s.list({ status: "timeout", limit: 10 })).toHaveLength(5);
    expect(s.list({ status: "success", limit: 100 })).toHaveLength(45);
    s.close();
  });

  it("finds one device's calls across blocks of the device index, newest first, paged, with its stats", () => {
    const s = new Store(join(tempDir(), "buckets.db"));
    // 10,000 calls span three or four blocks of 4,096 processIds; "rare" calls only now and then.
    const rare: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const isRare = i % 1500 === 7;
      const c = record(s, { deviceName: isRare ? "rare" : `d${i % 50}`, status: "success", rttMs: isRare ? i : 1, endedAt: Date.now() });
      if (isRare) rare.unshift(c.messageId);
      s.save(c);
    }
    expect(rare.length).toBe(7);
    expect(s.list({ deviceName: "rare", limit: 100 }).map((c) => c.messageId)).toEqual(rare);
    expect(s.list({ productId: "PROD000001", deviceName: "rare", limit: 3 }).map((c) => c.messageId)).toEqual(rare.slice(0, 3));
    expect(s.list({ deviceName: "rare", limit: 3, before: rare[2] }).map((c) => c.messageId)).toEqual(rare.slice(3, 6));
    expect(s.list({ deviceName: "rare", limit: 100, status: "timeout" })).toEqual([]);
    expect(s.list({ deviceName: "nobody", limit: 10 })).toEqual([]);
    const stats = s.deviceStats().find((d) => d.deviceName === "rare")!;
    expect(stats.calls).toBe(7);
    expect(stats.lastProcessId).toBe(String(rare[0]));
    expect(stats.recentRtts).toEqual([9007, 7507, 6007, 4507, 3007, 1507, 7]);
    // Each block is read through the device index, never by scanning the table.
    const q = listQuery({ productId: "PROD000001", deviceName: "rare", limit: 10 }, 244_140);
    const plan = (s.db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as { detail: string }[]).map((r) => r.detail).join("; ");
    expect(plan).toContain("calls_by_device_bucket");
    s.close();
  });

  it("prunes the oldest ended calls beyond the retention, never a pending one", () => {
    const s = new Store(join(tempDir(), "prune.db"));
    const calls = Array.from({ length: 10 }, (_, i) => record(s, { status: i === 1 ? "pending" : "success" }));
    for (const c of calls) s.save(c);
    expect(s.prune(4)).toBe(5);
    expect(s.list({ limit: 100 }).map((c) => c.messageId)).toEqual([...calls.slice(6).reverse(), calls[1]!].map((c) => c.messageId));
    expect(s.prune(4)).toBe(0);
    s.close();
  });

  it("marks calls left pending by a previous process as interrupted, once", () => {
    const path = join(tempDir(), "crash.db");
    const s = new Store(path);
    const pending = record(s);
    const done = record(s, { status: "success" });
    s.save(pending);
    s.save(done);
    s.flush();
    const next = new Store(path);
    expect(next.interruptPending(Date.now())).toBe(1);
    const c = next.get(pending.messageId)!;
    expect(c.status).toBe("interrupted");
    expect(c.events.map((e) => e.type)).toEqual(["requested", "interrupted"]);
    expect(next.get(done.messageId)!.status).toBe("success");
    expect(next.interruptPending(Date.now())).toBe(0);
    next.close();
    s.close();
  });

  it("appends events that come after a call's row was written, never rewriting the row or its trace (finding 6)", async () => {
    const path = join(tempDir(), "append.db");
    const s = new Store(path);
    const c = record(s, { status: "success", reply: Buffer.alloc(100_000, 7), endedAt: Date.now(), rttMs: 2 });
    c.events.push({ type: "success", t: 2 });
    s.save(c);
    await s.written(c);
    // Every later change of a row is counted; none may happen for late events.
    s.db.exec(`CREATE TABLE rewrites (n INTEGER); CREATE TRIGGER count_rewrites AFTER UPDATE ON calls BEGIN INSERT INTO rewrites VALUES (1); END`);
    const late = s.get(c.messageId)!;
    for (let i = 0; i < 30; i++) {
      late.events.push({ type: "duplicate_reply", t: 10 + i, detail: { bytes: 3 } });
      s.save(late);
      // Some batches carry one event, some several.
      if (i % 3 === 0) await s.written(late);
    }
    await s.written(late);
    expect(s.db.prepare(`SELECT count(*) AS n FROM rewrites`).get()).toEqual({ n: 0 });
    const chunks = s.db.prepare(`SELECT first, events FROM call_events WHERE process_id = ? ORDER BY first`).all(c.messageId) as {
      first: number;
      events: string;
    }[];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.reduce((n, ch) => n + (JSON.parse(ch.events) as unknown[]).length, 0)).toBe(30);
    const row = s.db.prepare(`SELECT events FROM calls WHERE process_id = ?`).get(c.messageId) as { events: string };
    expect(JSON.parse(row.events)).toHaveLength(2);
    s.close();
    const again = new Store(path);
    const back = again.get(c.messageId)!;
    expect(back.events.map((e) => e.t)).toEqual([0, 2, ...Array.from({ length: 30 }, (_, i) => 10 + i)]);
    expect(again.list({ limit: 1 })[0]!.events).toEqual(back.events);
    expect(back.reply!.byteLength).toBe(100_000);
    again.close();
  });

  it("says a call is written only once another connection can read it (answers after commit, finding 9)", async () => {
    const path = join(tempDir(), "durable.db");
    const s = new Store(path);
    const reader = new Database(path, { readonly: true });
    const read = reader.prepare(`SELECT status FROM calls WHERE process_id = ?`);
    const calls = Array.from({ length: 200 }, () => record(s, { status: "success", endedAt: Date.now() }));
    const seen = await Promise.all(
      calls.map((c) => {
        s.save(c);
        return s.written(c).then(() => read.get(c.messageId));
      }),
    );
    expect(seen).toEqual(calls.map(() => ({ status: "success" })));
    reader.close();
    s.close();
  });

  it("packs what ended in one turn in slices, a turn each, so timers due meanwhile run in between; all of it is written", async () => {
    const path = join(tempDir(), "slices.db");
    const s = new Store(path);
    const calls = Array.from({ length: FLUSH_SLICE * 2 + 10 }, () =>
      record(s, {
        status: "timeout",
        endedAt: Date.now(),
        events: [
          { type: "requested", t: 0 },
          { type: "timeout", t: 4000 },
        ],
      }),
    );
    for (const c of calls) s.save(c);
    const posted: number[] = [];
    // Immediates run in the order set: this one right after the store's first slice, and so on.
    const turn = () => new Promise<void>((resolve) => setImmediate(() => (posted.push(s.writer!.postedSeq), resolve())));
    await turn();
    await turn();
    await turn();
    expect(posted).toEqual([1, 2, 3]);
    await Promise.all(calls.map((c) => s.written(c)));
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare(`SELECT count(*) AS n FROM calls WHERE status = 'timeout'`).get()).toEqual({ n: calls.length });
    expect(
      JSON.parse((reader.prepare(`SELECT events FROM calls WHERE process_id = ?`).get(calls.at(-1)!.messageId) as { events: string }).events),
    ).toEqual([
      { type: "requested", t: 0 },
      { type: "timeout", t: 4000 },
    ]);
    reader.close();
    s.close();
  });

  it("refuses new calls while it cannot write, keeps what ends meanwhile, and recovers by itself (finding 8)", async () => {
    const path = join(tempDir(), "unwritable.db");
    const s = new Store(path);
    const before = record(s, { status: "success", endedAt: Date.now() });
    // What a full disk does to every write of a row, on either connection.
    s.db.exec(`CREATE TRIGGER full BEFORE INSERT ON calls BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    s.save(before);
    await s.written(before);
    expect(s.unavailable).toMatch(/disk is full/);
    expect(() => s.allocateProcessId()).toThrow(expect.objectContaining({ reason: "store_unavailable" }));
    // The call is still there to read, and a late event for it is kept too.
    const kept = s.get(before.messageId)!;
    kept.events.push({ type: "late_reply", t: 5 });
    s.save(kept);
    await s.written(kept);
    s.db.exec(`DROP TRIGGER full`);
    await waitFor(() => s.unavailable === null, "the store to write again");
    const other = new Database(path, { readonly: true });
    expect(other.prepare(`SELECT status FROM calls WHERE process_id = ?`).get(before.messageId)).toEqual({ status: "success" });
    other.close();
    expect(s.allocateProcessId().messageId).toBe(before.messageId + 1);
    s.close();
    const again = new Store(path);
    expect(again.get(before.messageId)!.events.map((e) => e.type)).toEqual(["requested", "late_reply"]);
    again.close();
  });

  it("reads a page of large calls in pieces: a page ends before its payloads pass maxBytes, with at least one row", () => {
    const s = new Store(join(tempDir(), "page.db"));
    const sizes = [10, 300, 10, 10, 500, 10];
    const calls = sizes.map((n) => record(s, { status: "success", request: Buffer.alloc(n - 4), reply: Buffer.alloc(4), endedAt: Date.now() }));
    for (const c of calls) s.save(c);
    const ids = (p: { calls: { messageId: number }[] }) => p.calls.map((c) => c.messageId);
    const newestFirst = [...calls].reverse().map((c) => c.messageId);
    // 10, then 500 would pass 100: one row. Then 500 alone (a row over the budget still comes).
    let p = s.page({ limit: 10 }, 100);
    expect([ids(p), p.more]).toEqual([newestFirst.slice(0, 1), true]);
    p = s.page({ limit: 10, before: newestFirst[0] }, 100);
    expect([ids(p), p.more]).toEqual([newestFirst.slice(1, 2), true]);
    p = s.page({ limit: 10, before: newestFirst[1] }, 100);
    expect([ids(p), p.more]).toEqual([newestFirst.slice(2, 4), true]);
    p = s.page({ limit: 2, before: newestFirst[3] }, 1000);
    expect([ids(p), p.more]).toEqual([newestFirst.slice(4, 6), true]);
    p = s.page({ limit: 10, before: newestFirst[3] }, 1000);
    expect([ids(p), p.more]).toEqual([newestFirst.slice(4, 6), false]);
    expect(s.page({ limit: 10, deviceName: "dev1" }, 315)).toMatchObject({ more: true });
    expect(ids(s.page({ limit: 10, deviceName: "dev1" }, 315))).toEqual(newestFirst.slice(0, 1));
    s.close();
  });

  it("counts the calls matching a filter, one device's across blocks of the device index", () => {
    const s = new Store(join(tempDir(), "count.db"));
    for (let i = 0; i < 9000; i++) s.save(record(s, { deviceName: i % 3 === 0 ? "third" : "other", status: i % 10 === 0 ? "timeout" : "success" }));
    expect(s.count({})).toBe(9000);
    expect(s.count({ deviceName: "third" })).toBe(3000);
    expect(s.count({ productId: "PROD000001", deviceName: "third", status: "timeout" })).toBe(300);
    expect(s.count({ status: "timeout" })).toBe(900);
    expect(s.count({ deviceName: "nobody" })).toBe(0);
    s.close();
  });

  it("finds ids by prefix in any case, taking % and _ literally", () => {
    const s = new Store(join(tempDir(), "prefix.db"));
    const names = ["Kitchen1", "kitchen2", "kit_x", "kitaxb", "garage", "KIT%"];
    const ids = new Map(names.map((n) => [n, record(s, { deviceName: n, status: "success" })]));
    for (const c of ids.values()) s.save(c);
    const found = (f: Parameters<Store["list"]>[0]) =>
      s
        .list(f)
        .map((c) => c.deviceName)
        .sort();
    expect(found({ deviceNamePrefix: "kitchen", limit: 10 })).toEqual(["Kitchen1", "kitchen2"]);
    expect(found({ deviceNamePrefix: "KIT_", limit: 10 })).toEqual(["kit_x"]);
    expect(found({ deviceNamePrefix: "kit%", limit: 10 })).toEqual(["KIT%"]);
    expect(found({ productIdPrefix: "prod", deviceNamePrefix: "g", limit: 10 })).toEqual(["garage"]);
    expect(s.count({ deviceNamePrefix: "kit" })).toBe(5);
    s.close();
  });
});
