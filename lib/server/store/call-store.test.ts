import { afterEach, describe, expect, it } from "vitest";
import { storeBackends } from "../testing/backends";
import { callToJson, type CallRecord } from "../core/call";
import type { CallStore } from "./call-store";
import { callStats, deviceStatsRanking } from "./stats";
import { PgCallStore } from "./pg-store";

/** The calls store's contract, on SQLite and on PostgreSQL alike (docs/storage.md). */

function record(store: CallStore, over: Partial<CallRecord> = {}): CallRecord {
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
    startedAt: 1_764_460_000_000,
    events: [{ type: "requested", t: 0 }],
    ...over,
  };
}

function succeed(c: CallRecord, rttMs: number, reply = "ok"): CallRecord {
  c.status = "success";
  c.reply = Buffer.from(reply);
  c.events.push({ type: "replied", t: rttMs, detail: { bytes: c.reply.length } }, { type: "success", t: rttMs });
  c.endedAt = c.startedAt + rttMs;
  c.rttMs = rttMs;
  return c;
}

/** Waits for PostgreSQL's reservation of the next block of processIds (pg-store.ts), which runs in the background. */
const idsReserved = async (s: CallStore) => {
  if (s instanceof PgCallStore) await s.reserved();
};

const ids = (calls: CallRecord[]) => calls.map((c) => c.messageId);

describe.each(storeBackends())("calls store on $name", (backend) => {
  const open: CallStore[] = [];
  const openCalls = async (location: string, opts?: { hubId?: string }) => {
    const s = await backend.openCalls(location, opts);
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it("commits a call's latest state before `written` resolves, and reads it back as it was", async () => {
    const at = await backend.location();
    const s = await openCalls(at);
    const c = record(s, {
      request: Buffer.from([0, 1, 2, 255]),
      batchId: "b1",
      commandId: "c1",
      caller: { kind: "api_key", id: "AKID1", name: "ci" },
    });
    s.save(c);
    await s.written(c);
    succeed(c, 1.25);
    s.save(c);
    await s.written(c);
    expect(callToJson((await s.get(c.messageId))!)).toEqual(callToJson(c));
    // Another process on the same database sees what was written.
    const other = await openCalls(at);
    expect(callToJson((await other.get(c.messageId))!)).toEqual(callToJson(c));
    expect(await other.get(c.messageId + 1_000_000)).toBeNull();
  });

  it("appends events that arrive after a call ended, also when read back by another process", async () => {
    const at = await backend.location();
    const s = await openCalls(at);
    const c = succeed(record(s), 2);
    s.save(c);
    await s.written(c);
    const other = await openCalls(at);
    const late = (await other.get(c.messageId))!;
    late.events.push({ type: "duplicate_reply", t: 5, detail: { bytes: 2 } });
    other.save(late);
    await other.written(late);
    const back = (await s.get(c.messageId))!;
    expect(back.events.map((e) => e.type)).toEqual(["requested", "replied", "success", "duplicate_reply"]);
    expect(back.reply).toEqual(Buffer.from("ok"));
  });

  it("lists newest first with filters, prefixes in any case, a processId cursor, byte-bounded pages and counts", async () => {
    const s = await openCalls(await backend.location());
    const calls = Array.from({ length: 7 }, (_, i) =>
      record(s, {
        deviceName: i % 2 ? "odd_1" : "even",
        status: i % 3 === 0 ? "timeout" : "success",
        startedAt: 1_764_460_000_000 + i * 1000,
        caller: i === 4 ? { kind: "operator", id: "ann", name: "Ann" } : undefined,
      }),
    );
    for (const c of calls) s.save(c);
    const page1 = await s.list({ limit: 3 });
    expect(ids(page1)).toEqual(ids([calls[6]!, calls[5]!, calls[4]!]));
    expect(ids(await s.list({ limit: 3, before: page1.at(-1)!.messageId }))).toEqual(ids([calls[3]!, calls[2]!, calls[1]!]));
    expect(ids(await s.list({ limit: 10, deviceName: "odd_1" }))).toEqual(ids([calls[5]!, calls[3]!, calls[1]!]));
    expect(ids(await s.list({ limit: 10, deviceNamePrefix: "ODD_" }))).toEqual(ids([calls[5]!, calls[3]!, calls[1]!]));
    // `%` is a character of the prefix, not a wildcard.
    expect(await s.list({ limit: 10, deviceNamePrefix: "odd%" })).toEqual([]);
    expect(ids(await s.list({ limit: 10, productIdPrefix: "prod" }))).toHaveLength(7);
    expect(ids(await s.list({ limit: 10, status: "timeout" }))).toEqual(ids([calls[6]!, calls[3]!, calls[0]!]));
    expect(ids(await s.list({ limit: 10, callerKind: "operator", callerId: "ann" }))).toEqual(ids([calls[4]!]));
    expect(ids(await s.list({ limit: 10, from: calls[2]!.startedAt, to: calls[4]!.startedAt }))).toEqual(ids([calls[3]!, calls[2]!]));
    expect(await s.list({ limit: 10, productId: "NOPE" })).toEqual([]);
    expect(await s.count({ deviceName: "odd_1" })).toBe(3);
    expect(await s.count({ status: "success" })).toBe(4);
    const bounded = await s.page({ limit: 5 }, 2 * "closed".length);
    expect(ids(bounded.calls)).toEqual(ids([calls[6]!, calls[5]!]));
    expect(bounded.more).toBe(true);
  });

  it("finds one device's calls across blocks of the device index, newest first, with its stats", async () => {
    const s = await openCalls(await backend.location());
    const rare: number[] = [];
    for (let i = 0; i < 9000; i++) {
      if (i % 4000 === 0) await idsReserved(s);
      const isRare = i % 1500 === 7;
      const c = record(s, { deviceName: isRare ? "rare" : `d${i % 50}`, status: "success", rttMs: isRare ? i : 1, endedAt: 1_764_460_000_001 });
      if (isRare) rare.unshift(c.messageId);
      s.save(c);
    }
    expect(await s.list({ deviceName: "rare", limit: 100 }).then(ids)).toEqual(rare);
    expect(await s.list({ deviceName: "rare", limit: 3, before: rare[2] }).then(ids)).toEqual(rare.slice(3, 6));
    expect(await s.count({ deviceName: "rare" })).toBe(6);
    const stats = (await s.deviceStats()).find((d) => d.deviceName === "rare")!;
    expect(stats).toMatchObject({ calls: 6, successes: 6, lastProcessId: String(rare[0]), lastStatus: "success" });
    expect(stats.recentRtts).toEqual([7507, 6007, 4507, 3007, 1507, 7]);
  });

  it("prunes the oldest ended calls beyond the retention, never a pending one", async () => {
    const s = await openCalls(await backend.location());
    const calls = Array.from({ length: 10 }, (_, i) => record(s, { status: i === 1 ? "pending" : "success" }));
    for (const c of calls) s.save(c);
    calls[3]!.events.push({ type: "late_reply", t: 9 });
    expect(await s.prune(4)).toBe(5);
    expect(ids(await s.list({ limit: 100 }))).toEqual(ids([...calls.slice(6).reverse(), calls[1]!]));
    expect(await s.prune(4)).toBe(0);
  });

  it("ends calls a stopped process left pending as interrupted, once", async () => {
    const at = await backend.location();
    const s = await openCalls(at);
    const pending = record(s);
    const done = succeed(record(s), 1);
    s.save(pending);
    s.save(done);
    await s.flush();
    const next = await openCalls(at);
    expect(await next.interruptPending(1_764_460_001_000)).toBe(1);
    const c = (await next.get(pending.messageId))!;
    expect(c.status).toBe("interrupted");
    expect(c.endedAt).toBe(1_764_460_001_000);
    expect(c.events.map((e) => e.type)).toEqual(["requested", "interrupted"]);
    expect(await next.interruptPending(1_764_460_002_000)).toBe(0);
    expect((await next.get(done.messageId))!.status).toBe("success");
  });

  it("never hands out one processId twice, across processes on one database and across reopening", async () => {
    const at = await backend.location();
    const a = await openCalls(at);
    const seen = new Set<number>();
    const take = (s: CallStore, n: number) => {
      for (let i = 0; i < n; i++) {
        const { messageId, processId } = s.allocateProcessId();
        expect(processId).toBe(String(messageId));
        expect(seen.has(messageId)).toBe(false);
        seen.add(messageId);
      }
    };
    take(a, 10);
    if (backend.name === "postgres") {
      // Two hubs at once: blocks are reserved atomically, so they never overlap.
      const b = await openCalls(at);
      for (let round = 0; round < 6; round++) {
        take(a, 3000);
        take(b, 3000);
        await idsReserved(a);
        await idsReserved(b);
      }
    }
    const last = Math.max(...seen);
    await a.close();
    open.splice(open.indexOf(a), 1);
    const again = await openCalls(at);
    expect(again.allocateProcessId().messageId).toBeGreaterThan(last);
  });

  it("counts calls by bucket and ranks devices with nearest-rank percentiles", async () => {
    const s = await openCalls(await backend.location());
    const t0 = 1_764_460_000_000;
    const rtts = [5, 1, 3, 2, 4];
    for (const [i, rtt] of rtts.entries()) s.save(succeed(record(s, { startedAt: t0 + i * 10, deviceName: "slow" }), rtt * 10));
    s.save(succeed(record(s, { startedAt: t0 + 61_000, deviceName: "fast" }), 1));
    s.save(record(s, { startedAt: t0 + 61_500, deviceName: "fast", status: "timeout", endedAt: t0 + 65_500 }));
    const stats = await callStats(s, { from: t0, to: t0 + 120_000, bucketMs: 60_000, productId: undefined, deviceName: undefined });
    expect(stats.buckets.map((b) => [b.calls, b.success, b.timeout, b.p50, b.p95, b.p99])).toEqual([
      [5, 5, 0, 30, 50, 50],
      [2, 1, 1, 1, 1, 1],
    ]);
    const ranking = await deviceStatsRanking(s, { from: t0, to: t0 + 120_000, limit: 5 });
    expect(ranking.slowest.map((d) => [d.deviceName, d.p95])).toEqual([
      ["slow", 50],
      ["fast", 1],
    ]);
    expect(ranking.failing.map((d) => [d.deviceName, d.failures, d.failureRate])).toEqual([["fast", 1, 0.5]]);
  });
});

describe.each(storeBackends().filter((b) => b.name === "postgres"))("calls of several hubs on $name", (backend) => {
  it("keeps each call's hub, and ends only the stopped hub's pending calls", async () => {
    const at = await backend.location();
    const a = await backend.openCalls(at, { hubId: "hub-a" });
    const b = await backend.openCalls(at, { hubId: "hub-b" });
    const ca = record(a);
    const cb = record(b);
    a.save(ca);
    b.save(cb);
    await a.written(ca);
    await b.written(cb);
    // Visible to the other hub while still in flight.
    expect((await b.get(ca.messageId))!.status).toBe("pending");
    expect(await b.interruptPendingOf("hub-a", 1_764_460_009_000)).toBe(1);
    expect((await a.get(ca.messageId))!.status).toBe("interrupted");
    expect((await a.get(ca.messageId))!.events.at(-1)).toMatchObject({ type: "interrupted", detail: { reason: "hub stopped" } });
    expect((await a.get(cb.messageId))!.status).toBe("pending");
    const hubs = await a.sql.all<{ hub_id: string }>(`SELECT hub_id FROM calls ORDER BY process_id`);
    expect(hubs.map((h) => h.hub_id).sort()).toEqual(["hub-a", "hub-b"]);
    await a.close();
    await b.close();
  });
});
