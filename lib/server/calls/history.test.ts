import { describe, expect, it } from "vitest";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { callToJson, type CallRecord } from "../core/call";
import { closeAfterTest } from "../testing/db";
import { exportCalls, listCalls } from "./history";

function saved(store: Store, over: Partial<CallRecord> = {}): CallRecord {
  const { processId, messageId } = store.allocateProcessId();
  const call: CallRecord = {
    processId,
    messageId,
    productId: "HIST000001",
    deviceName: "dev1",
    source: "api",
    status: "success",
    request: Buffer.from("closed"),
    reply: Buffer.from("ok"),
    timeoutMs: 4000,
    startedAt: Date.parse("2026-11-29T12:00:00Z") + messageId,
    endedAt: Date.parse("2026-11-29T12:00:00Z") + messageId + 1.5,
    rttMs: 1.5,
    events: [
      { type: "requested", t: 0 },
      { type: "replied", t: 1.5, detail: { bytes: 2 } },
      { type: "success", t: 1.5 },
    ],
    ...over,
  };
  store.save(call);
  return call;
}

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const MiB = 1024 * 1024;

/**
 * Calls whose JSON tests the streamed writer: escapes, binary, no reply, a pending call, a trace
 * with details, large payloads, and long texts escaped in slices (surrogate pairs across a slice's
 * end, control characters that grow sixfold).
 */
function variedCalls(store: Store): void {
  saved(store, { request: Buffer.from('quote " backslash \\ newline \n tab \t nul \u0000 é 😀'), reply: Buffer.from("\u0001\u001f</script>") });
  saved(store, { reply: Buffer.from([0xff, 0xfe, 0x00, 0x80]) });
  saved(store, { status: "timeout", reply: undefined, rttMs: undefined, events: [{ type: "timeout", t: 4000 }] });
  saved(store, {
    status: "reply_too_large",
    reply: undefined,
    rttMs: undefined,
    events: [{ type: "reply_too_large", t: 2, detail: { bytes: 2 * MiB, limit: MiB } }],
  });
  saved(store, { status: "pending", reply: undefined, endedAt: undefined, rttMs: undefined, events: [{ type: "requested", t: 0 }] });
  saved(store, { request: Buffer.alloc(MiB, 0x61), reply: Buffer.alloc(MiB, 0x62) });
  saved(store, { request: Buffer.from("x" + "😀".repeat(100_000) + '"\\'), reply: Buffer.alloc(200_000, 0x01) });
}

describe("history answers, written piece by piece", () => {
  it("GET /api/calls: the same JSON as the page in one string, written in bounded chunks", async () => {
    const store = closeAfterTest(new Store(":memory:"));
    variedCalls(store);
    for (const limit of [3, 50]) {
      const q = { limit };
      const page = store.list(q);
      const expected = JSON.stringify({ calls: page.map(callToJson), nextBefore: page.length === limit ? page.at(-1)!.processId : null });
      const chunks = await collect(await listCalls(new SqliteCallStore(store), q));
      expect(chunks.join("")).toBe(expected);
      // A chunk is closed past 64 Ki characters; its last part, at most 64 Ki escaped characters, may take it to 7 × 64 Ki.
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(7 * 64 * 1024 + 64);
    }
  });

  it("export: the same JSON array and CSV rows across pages of the store", async () => {
    const store = closeAfterTest(new Store(":memory:"));
    variedCalls(store);
    for (let i = 0; i < 1000; i++) saved(store, { request: Buffer.from(`call ${i}`) });
    const all = store.list({ limit: 5000 }).map(callToJson);
    expect(all).toHaveLength(1007);

    const json = (await collect(exportCalls(new SqliteCallStore(store), { format: "json" }))).join("");
    expect(json).toBe(JSON.stringify(all));

    const csv = (await collect(exportCalls(new SqliteCallStore(store), { format: "csv" }))).join("");
    const rows = csv.split("\r\n");
    expect(rows[0]).toBe(
      "processId,productId,deviceName,status,startedAt,endedAt,rttMs,timeoutMs,requestBase64,requestText,replyBase64,replyText,callerKind,callerId,callerName,batchId,commandId",
    );
    expect(rows.at(-1)).toBe("");
    expect(rows.filter((r) => /^\d{10},HIST000001,/.test(r))).toHaveLength(1007);
    const big = all.find((c) => c.request.payloadBase64.length > MiB)!;
    expect(csv).toContain(`${big.processId},HIST000001,dev1,success,`);
    // No caller, batch or command on these calls: the columns after the reply are empty.
    expect(csv).toContain(`,${big.reply!.payloadBase64},${big.reply!.payloadText},,,,,\r\n`);
    const tooLarge = all.find((c) => c.status === "reply_too_large")!;
    expect(csv).toContain(`${tooLarge.processId},HIST000001,dev1,reply_too_large,`);
  });
});
