/** Hubs sharing one PostgreSQL database: heartbeats, leases, takeover by exactly one survivor, processId ownership. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Pool } from "pg";
import { startPostgres, type Postgres } from "../testing/postgres";
import { ManualClock } from "../testing/clock";
import { Membership } from "./membership";
import { IdOwnership } from "./ownership";
import { poolQuery, type Query } from "./query";
import { openPostgres } from "../store/open";
import type { Clock } from "../core/call";

let pg: Postgres;
const pools: Pool[] = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await pg?.stop();
});

/** A fresh database at the store's schema (migration 8: the cluster's tables); each "process" gets its own pool, as separate hubs would. */
async function database(): Promise<() => Query> {
  const url = await pg.createDatabase();
  await (await openPostgres(url)).close();
  const open = () => {
    const pool = new Pool({ connectionString: url, max: 4 });
    pools.push(pool);
    return poolQuery(pool);
  };
  return open;
}

/** The test's time, without timers: heartbeats and sweeps run only when the test calls them. */
const driven = (c: ManualClock): Clock => ({ now: () => c.now(), epoch: (m) => c.epoch(m), setTimer: () => null, clearTimer: () => {} });

describe("membership", () => {
  test("a hub whose heartbeat stops is taken over once, by exactly one of the survivors, after the lease and not before", async () => {
    const open = await database();
    const clock = new ManualClock();
    const time = driven(clock);
    const taken: [string, string][] = [];
    const hub = (id: string) =>
      new Membership({ id, query: open(), clock: time, heartbeatMs: 5000, leaseMs: 15000, takeOver: async (dead) => void taken.push([id, dead]) });
    const [a, b, c] = [hub("a"), hub("b"), hub("c")];
    for (const m of [a, b, c]) await m.start();
    expect((await a.hubs()).map((h) => h.id)).toEqual(["a", "b", "c"]);

    // c stops beating (killed); a and b go on.
    await c.stop({ leave: false });
    clock.advance(14_000);
    await Promise.all([a.beat(), b.beat()]);
    expect(await Promise.all([a.sweep(), b.sweep()])).toEqual([[], []]);

    clock.advance(2_000);
    await Promise.all([a.beat(), b.beat()]);
    const swept = await Promise.all([a.sweep(), b.sweep(), a.sweep(), b.sweep()]);
    expect(swept.flat()).toEqual(["c"]);
    expect(taken.map(([, dead]) => dead)).toEqual(["c"]);
    expect((await a.hubs()).map((h) => h.id)).toEqual(["a", "b"]);

    // A hub started again is a new member, with a new id.
    const c2 = new Membership({ query: open(), clock: time, takeOver: async () => {} });
    await c2.start();
    expect(c2.id).toMatch(/^[0-9a-f]{16}$/);
    expect((await a.hubs()).map((h) => h.id).sort()).toEqual(["a", "b", c2.id].sort());
    for (const m of [a, b, c2]) await m.stop();
    expect(await a.hubs()).toEqual([]);
  });

  test("a claimer that dies before finishing leaves the dead hub to be claimed again; the hub that was claimed is fenced", async () => {
    const open = await database();
    const clock = new ManualClock();
    const time = driven(clock);
    const dead = new Membership({ id: "dead", query: open(), clock: time, takeOver: async () => {} });
    let failDeadOnce = true;
    const calls: string[] = [];
    const a = new Membership({
      id: "a",
      query: open(),
      clock: time,
      takeOver: async (id) => {
        calls.push(`a:${id}`);
        if (id === "dead" && failDeadOnce) {
          failDeadOnce = false;
          throw new Error("database went away");
        }
      },
    });
    let fenced = 0;
    const zombie = new Membership({ id: "zombie", query: open(), clock: time, takeOver: async () => {}, onFenced: () => fenced++ });
    await dead.start();
    await zombie.start();
    await a.start();
    clock.advance(16_000);
    await a.beat();
    // Both are claimed; the takeover of the first fails and it stays claimed (heartbeat renewed by the claim).
    expect(await a.sweep()).toEqual(["zombie"]);
    expect((await a.hubs()).map((h) => [h.id, h.claimedBy])).toEqual([
      ["a", null],
      ["dead", "a"],
    ]);
    // Not claimable again before a new lease has run out.
    clock.advance(10_000);
    await a.beat();
    expect(await a.sweep()).toEqual([]);
    clock.advance(6_000);
    await a.beat();
    expect(await a.sweep()).toEqual(["dead"]);
    expect(calls.sort()).toEqual(["a:dead", "a:dead", "a:zombie"]);

    // The zombie (a paused process) wakes up: its heartbeat finds its row claimed.
    expect(await zombie.beat()).toBe(false);
    expect(zombie.isFenced).toBe(true);
    expect(fenced).toBe(1);
    expect(await zombie.sweep()).toEqual([]);
    await a.stop();
    await zombie.stop();
  });

  test("the heartbeat runs on the injected clock's timers", async () => {
    const open = await database();
    const clock = new ManualClock();
    const a = new Membership({ id: "a", query: open(), clock, heartbeatMs: 1000, leaseMs: 3000, takeOver: async () => {} });
    await a.start();
    const before = (await a.hubs())[0]!.heartbeatAt;
    clock.advance(1000);
    const after = await waitForValue(async () => {
      const h = (await a.hubs())[0]!.heartbeatAt;
      return h > before ? h : null;
    });
    expect(after - before).toBe(1000);
    await a.stop();
  });
});

async function waitForValue<T>(fn: () => Promise<T | null>): Promise<T> {
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("processId ownership", () => {
  test("each hub knows its ids exactly, a peer's ids once it has read their range, and ids of no range as none", async () => {
    const open = await database();
    let t = 0;
    const now = () => t;
    const a = new IdOwnership({ hubId: "a", query: open(), now });
    const b = new IdOwnership({ hubId: "b", query: open(), now });
    // Interleaved blocks, as a shared reservation hands them out.
    for (let id = 1000; id < 1010; id++) a.allocated(id);
    for (let id = 2000; id < 2010; id++) b.allocated(id);
    for (let id = 3000; id < 3005; id++) a.allocated(id);
    const rows = async (q: Query) => q<{ first_id: string }>(`SELECT first_id FROM hub_blocks ORDER BY first_id`);
    const q = open();
    await waitForValue(async () => ((await rows(q)).length === 3 ? true : null));

    expect([a.owner(1000), a.owner(1009), a.owner(3004)]).toEqual(["mine", "mine", "mine"]);
    expect([b.owner(2000), b.owner(2009)]).toEqual(["mine", "mine"]);
    // Before a has read b's range, b's id is not a's (none); the miss refreshes.
    expect(a.owner(2005)).toBe("none");
    await a.refresh();
    expect([a.owner(2005), a.owner(2999)]).toEqual(["other", "other"]);
    expect([a.owner(1010), a.owner(999), a.owner(500)]).toEqual(["none", "none", "none"]);
    t += 2000;
    await b.refresh();
    expect([b.owner(1005), b.owner(3004), b.owner(2010)]).toEqual(["other", "other", "none"]);
    // The refresh is rate limited: a burst of misses reads the table once.
    let reads = 0;
    const counting: Query = async (sql, params) => {
      if (sql.startsWith("SELECT")) reads++;
      return q(sql, params);
    };
    const c = new IdOwnership({ hubId: "c", query: counting, now });
    for (let i = 0; i < 50; i++) c.owner(1005);
    await waitForValue(async () => (c.owner(1005) === "other" ? true : null));
    expect(reads).toBe(1);
    expect(c.owner(1005)).toBe("other");
  });
});
