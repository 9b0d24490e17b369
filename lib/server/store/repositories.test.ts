/**
 * Saved commands, product settings, the batch ledger and stored keys, on SQLite and on
 * PostgreSQL alike (docs/storage.md). Devices, keys, users and calls have their own suites
 * (registry.test.ts, api-keys.test.ts, users.test.ts, call-store.test.ts).
 */
import { describe, expect, it } from "vitest";
import { storeBackends } from "../testing/backends";
import { closeAfterTest, domainErrorOf } from "../testing/db";
import { CommandRegistry } from "../commands/commands";
import { ProductSettings } from "../devices/products";
import { DeviceRegistry } from "../devices/registry";
import { BatchLedger, type BatchRow } from "../batches/ledger";
import { storedKey } from "./secrets";
import type { CallRecord } from "../core/call";

const P = "REPO000001";

const batchRow = (id: string): BatchRow => ({
  id,
  status: "running",
  total: 3,
  payload: Buffer.from([1, 2, 3]),
  command_id: null,
  params: null,
  timeout_ms: 4000,
  concurrency: 2,
  rate_per_second: 1.5,
  created_by: "local",
  retry_of: null,
  started_at: 1_764_460_000_000.25,
  ended_at: null,
  counts: null,
});

describe.each(storeBackends())("repositories on $name", (backend) => {
  it("commands: names unique in any case, listed by name, updated, rendered and deleted", async () => {
    const c = new CommandRegistry(closeAfterTest(await backend.open()), 1024);
    const b = await c.create({ name: "beta", payload: "B {{n}}", encoding: "utf8", params: [{ name: "n", type: "integer" }] });
    await c.create({ name: "Alpha", payload: "A", encoding: "utf8", params: [], timeoutMs: 3000, productId: P });
    expect((await domainErrorOf(() => c.create({ name: "BETA", payload: "x", encoding: "utf8", params: [] }))).reason).toBe("command_exists");
    expect((await c.list()).map((x) => x.name)).toEqual(["Alpha", "beta"]);
    const prepared = await c.prepare(b.id, { n: 7 });
    expect(Buffer.from(prepared.payload).toString()).toBe("B 7");
    const renamed = await c.update(b.id, { name: "gamma", payload: "G", encoding: "utf8", params: [] });
    expect(renamed).toMatchObject({ id: b.id, name: "gamma", payload: "G" });
    await c.delete(b.id);
    expect((await domainErrorOf(() => c.get(b.id))).reason).toBe("command_not_found");
    expect((await domainErrorOf(() => c.delete(b.id))).reason).toBe("command_not_found");
  });

  it("products: limits kept in memory and in the database, with device counts", async () => {
    const sql = closeAfterTest(await backend.open());
    await new DeviceRegistry(sql).createDevice(P, "d1");
    const p = await ProductSettings.open(sql, 4096);
    expect(await p.get(P)).toMatchObject({ productId: P, devices: 1, maxRequestBytes: null, effectiveMaxRequestBytes: 4096 });
    await p.setLimit("OTHER00001", 100);
    expect(p.limitOf("OTHER00001")).toBe(100);
    expect((await p.list()).products.map((x) => [x.productId, x.devices, x.maxRequestBytes])).toEqual([
      ["OTHER00001", 0, 100],
      [P, 1, null],
    ]);
    // Another hub's settings are read again by reload().
    const other = await ProductSettings.open(sql, 4096);
    expect(other.allLimits()).toEqual({ OTHER00001: 100 });
    await p.setLimit("OTHER00001", null);
    await other.reload();
    expect(other.limitOf("OTHER00001")).toBeNull();
  });

  it("the batch ledger: targets, outcomes, cancellation, and recovery from the calls a stopped hub left", async () => {
    const at = await backend.location();
    const store = closeAfterTest(await backend.openCalls(at));
    const ledger = new BatchLedger(store.sql);
    const targets = [0, 1, 2, 3].map((i) => ({ productId: P, deviceName: `d${i}` }));
    await ledger.insertBatch({ ...batchRow("b_1"), total: 4 }, targets);
    expect(await ledger.get("b_1")).toMatchObject({
      id: "b_1",
      payload: Buffer.from([1, 2, 3]),
      rate_per_second: 1.5,
      started_at: 1_764_460_000_000.25,
    });
    // d0 answered and was written; d1's call ended but its outcome was not written; d2 was never sent.
    await ledger.writeUpdates([["success", 1_000_000_001, "b_1", 0]]);
    const call: CallRecord = {
      ...store.allocateProcessId(),
      productId: P,
      deviceName: "d1",
      source: "batch",
      status: "timeout",
      request: Buffer.from("x"),
      timeoutMs: 10,
      startedAt: 1,
      endedAt: 11,
      batchId: "b_1",
      events: [{ type: "requested", t: 0 }],
    };
    store.save(call);
    await store.written(call);
    await ledger.cancelFrom("b_1", 3);
    expect((await ledger.targets("b_1", { after: -1, limit: 10 })).map((t) => t.status)).toEqual(["success", "pending", "pending", "cancelled"]);
    expect(await ledger.recover(99)).toEqual(["b_1"]);
    const closed = (await ledger.get("b_1"))!;
    expect(closed).toMatchObject({ status: "interrupted", ended_at: 99 });
    expect(JSON.parse(closed.counts!)).toMatchObject({ success: 1, timeout: 1, interrupted: 1, cancelled: 1, pending: 0, unsent: 2 });
    const all: string[] = [];
    for await (const t of ledger.allTargets("b_1")) all.push(`${t.deviceName}:${t.status}:${t.processId ?? "-"}`);
    expect(all).toEqual(["d0:success:1000000001", `d1:timeout:${call.messageId}`, "d2:interrupted:-", "d3:cancelled:-"]);
    expect(await ledger.notSucceeded("b_1")).toEqual(targets.slice(1));
    expect(await ledger.recover(100)).toEqual([]);
  });

  it("the batch ledger: each hub recovers its own batches only", async () => {
    const sql = closeAfterTest(await backend.open());
    const a = new BatchLedger(sql, "hub-a");
    const b = new BatchLedger(sql, "hub-b");
    await a.insertBatch(batchRow("b_a"), [{ productId: P, deviceName: "x" }]);
    await b.insertBatch(batchRow("b_b"), [{ productId: P, deviceName: "y" }]);
    expect(await a.recover(5)).toEqual(["b_a"]);
    expect((await a.get("b_b"))!.status).toBe("running");
    expect(await a.recoverOf("hub-b", 6)).toEqual(["b_b"]);
    expect((await a.get("b_b"))!.status).toBe("interrupted");
  });

  it("stored keys: made once, the same for every process on the database", async () => {
    const at = await backend.location();
    const one = closeAfterTest(await backend.openAt(at));
    const two = closeAfterTest(await backend.openAt(at));
    const [k1, k2] = await Promise.all([storedKey(one, "session_key"), storedKey(two, "session_key")]);
    expect(k1).toHaveLength(32);
    expect(k2).toEqual(k1);
    expect(await storedKey(one, "other")).not.toEqual(k1);
  });
});
