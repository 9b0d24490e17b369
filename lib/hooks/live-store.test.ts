import { describe, expect, it } from "vitest";
import { LiveStore, compareProcessIds, findRow, rowFromCall } from "./live-store";
import { LIVE_CALLS_TOPIC, LIVE_PRESENCE_TOPIC, type LiveCallUpdate } from "../rrpc/live";
import type { CallsPage } from "../rrpc/api";
import type { CallJson } from "../rrpc/types";

const enc = (s: string) => new TextEncoder().encode(s);
const hub = (u: Partial<LiveCallUpdate>[]) =>
  enc(
    JSON.stringify(
      u.map((x) => ({ productId: "P1", deviceName: "d1", status: "pending", event: "requested", t: 0, at: 1000, timeoutMs: 4000, ...x })),
    ),
  );
const stored = (processId: string, c: Partial<CallJson> = {}): CallJson => ({
  processId,
  messageId: Number(processId),
  productId: "P1",
  deviceName: "d1",
  status: "success",
  request: { payloadBase64: "Y2xvc2Vk", payloadText: "closed" },
  reply: { payloadBase64: "b2s=", payloadText: "ok" },
  timeoutMs: 4000,
  startedAt: new Date(1000).toISOString(),
  endedAt: new Date(1001).toISOString(),
  rttMs: 0.5,
  events: [],
  ...c,
});
const page = (calls: CallJson[], nextBefore: string | null = null): CallsPage => ({ calls, nextBefore });

describe("LiveStore", () => {
  it("pairs a raw request and reply into one row by processId, newest first; the browser measures no round trip", () => {
    const s = new LiveStore();
    s.ingest("$rrpc/rxd/P1/d1/1000000001", enc("closed"), 100);
    s.ingest("$rrpc/rxd/P1/d1/1000000002", enc("open"), 110);
    s.ingest("$rrpc/txd/P1/d1/1000000001", enc("ok"), 103);
    const rows = s.getSnapshot().rows;
    expect(rows.map((r) => r.processId)).toEqual(["1000000002", "1000000001"]);
    expect(rows[1]).toMatchObject({ status: "success", request: { text: "closed" }, reply: { text: "ok" } });
    expect(rows[1]?.rttMs).toBeUndefined();
    expect(rows[0]?.status).toBe("pending");
  });

  it("ignores a reply from another device for the same processId", () => {
    const s = new LiveStore();
    s.ingest("$rrpc/rxd/P1/d1/1000000001", enc("x"));
    s.ingest("$rrpc/txd/P1/other/1000000001", enc("forged"));
    expect(s.getSnapshot().rows[0]?.reply).toBeUndefined();
  });

  it("takes outcomes from the hub's feed, including those that never appear as MQTT traffic", () => {
    const s = new LiveStore();
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000005", event: "requested", request: { bytes: 1, text: "x", truncated: false } }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000005", status: "timeout", event: "timeout", t: 4000.2 }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000006", status: "offline", event: "offline", t: 0.05, deviceName: "ghost" }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000005", status: "timeout", event: "late_reply", t: 4500 }]));
    const [offline, timeout] = s.getSnapshot().rows;
    expect(offline).toMatchObject({ processId: "1000000006", status: "offline", deviceName: "ghost", viaHub: true });
    expect(timeout).toMatchObject({ processId: "1000000005", status: "timeout", late: true, request: { text: "x" } });
  });

  it("never moves a status back: a pending update after the terminal one (out of order, or a stored page read in flight) changes nothing", () => {
    const s = new LiveStore();
    const reply = { bytes: 2, text: "ok", truncated: false };
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000007", status: "success", event: "success", t: 1.5, rttMs: 1.5, reply }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000007", status: "pending", event: "delivered", t: 0.2 }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000007", status: "pending", event: "requested", t: 0 }]));
    s.mergeCalls(page([stored("1000000007", { status: "pending", reply: undefined, rttMs: undefined, endedAt: undefined })]), "latest");
    // A raw request seen late creates nothing new either.
    s.ingest("$rrpc/rxd/P1/d1/1000000007", enc("closed"));
    expect(s.getSnapshot().rows).toEqual([expect.objectContaining({ processId: "1000000007", status: "success", rttMs: 1.5, reply })]);

    // A stored terminal status is final too, whatever the feed says afterwards.
    s.mergeCalls(page([stored("1000000008", { status: "timeout", reply: undefined, rttMs: undefined })]), "latest");
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000008", status: "pending", event: "published", t: 0.1 }]));
    expect(s.getSnapshot().rows[0]).toMatchObject({ processId: "1000000008", status: "timeout" });
  });

  it("shows no reply while a call of the hub is pending: the raw reply waits for the hub's outcome and its round trip", () => {
    const s = new LiveStore();
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000009", event: "published", t: 0.1 }]));
    s.ingest("$rrpc/txd/P1/d1/1000000009", enc("ok"));
    const pending = s.getSnapshot().rows[0]!;
    expect([pending.status, pending.reply, pending.rttMs]).toEqual(["pending", undefined, undefined]);
    s.ingest(
      LIVE_CALLS_TOPIC,
      hub([{ processId: "1000000009", status: "success", event: "success", t: 2, rttMs: 2, reply: { bytes: 2, text: "ok", truncated: false } }]),
    );
    expect(s.getSnapshot().rows[0]).toMatchObject({ status: "success", rttMs: 2, reply: { text: "ok" } });
  });

  it("lets the hub's terminal status overrule what raw traffic suggested (a reply that came after the deadline)", () => {
    const s = new LiveStore();
    s.ingest("$rrpc/rxd/P1/d1/1000000010", enc("x"));
    s.ingest("$rrpc/txd/P1/d1/1000000010", enc("too late"));
    expect(s.getSnapshot().rows[0]?.status).toBe("success");
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000010", status: "timeout", event: "late_reply", t: 4001 }]));
    expect(s.getSnapshot().rows[0]).toMatchObject({ status: "timeout", late: true, reply: undefined });
  });

  it("merges stored pages with the live rows by processId: no duplicates, the newest first, the older cursor kept", () => {
    const s = new LiveStore();
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000021", event: "requested", clientRef: "r1" }]));
    s.mergeCalls(
      page([stored("1000000021", { status: "pending", reply: undefined }), stored("1000000020"), stored("1000000019")], "1000000019"),
      "latest",
    );
    let snap = s.getSnapshot();
    expect(snap.rows.map((r) => r.processId)).toEqual(["1000000021", "1000000020", "1000000019"]);
    expect(snap.rows[0]).toMatchObject({ status: "pending", clientRef: "r1" });
    expect(snap.rows[1]).toMatchObject({ status: "success", reply: { text: "ok" }, rttMs: 0.5, request: { text: "closed" } });
    expect(snap.olderBefore).toBe("1000000019");
    expect(snap.refs.get("r1")).toBe("1000000021");
    // Stored calls were not seen live: they are not new calls.
    expect(snap.calls).toBe(1);

    s.mergeCalls(page([stored("1000000018"), stored("1000000017")], null), "older");
    snap = s.getSnapshot();
    expect(snap.rows.map((r) => r.processId)).toEqual(["1000000021", "1000000020", "1000000019", "1000000018", "1000000017"]);
    expect(snap.olderBefore).toBeNull();
  });

  it("carries who made a call, and its batch, from the feed and from stored pages into the rows (and through a mirror)", () => {
    const s = new LiveStore();
    const op = { kind: "operator" as const, id: "u1", name: "admin" };
    const batch = { kind: "batch" as const, id: "b_1a2b3c", name: "admin" };
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000020", caller: op }]));
    // A later update without a caller keeps the one already known.
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000020", status: "success", event: "success", t: 1, rttMs: 1 }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000021", caller: batch, batchId: "b_1a2b3c" }]));
    s.mergeCalls(
      page([
        stored("1000000022", { caller: { kind: "api_key", id: "k1", name: "ci-bot" } }),
        stored("1000000019", { caller: batch, batchId: "b_1a2b3c" }),
        stored("1000000018"),
      ]),
      "latest",
    );
    // A raw request seen first gets its caller when the hub's store tells it.
    s.ingest("$rrpc/rxd/P1/d1/1000000023", enc("x"));
    s.mergeCalls(page([stored("1000000023", { caller: { kind: "local", id: "127.0.0.1", name: "local" } })]), "latest");
    const byId = new Map(s.getSnapshot().rows.map((r) => [r.processId, r]));
    expect(byId.get("1000000020")).toMatchObject({ caller: op, status: "success" });
    expect(byId.get("1000000020")?.batchId).toBeUndefined();
    expect(byId.get("1000000021")).toMatchObject({ caller: batch, batchId: "b_1a2b3c" });
    expect(byId.get("1000000022")).toMatchObject({ caller: { kind: "api_key", id: "k1", name: "ci-bot" } });
    expect(byId.get("1000000019")).toMatchObject({ caller: batch, batchId: "b_1a2b3c" });
    expect(byId.get("1000000018")?.caller).toBeUndefined();
    expect(byId.get("1000000023")).toMatchObject({ caller: { kind: "local" }, viaHub: true });
    expect(rowFromCall(stored("1", { caller: batch, batchId: "b_1a2b3c" }))).toMatchObject({ caller: batch, batchId: "b_1a2b3c" });

    const mirror = new LiveStore();
    mirror.applyDelta(s.takeDelta()!);
    expect(mirror.getSnapshot().rows).toEqual(s.getSnapshot().rows);
  });

  it("counts calls, not messages: a call's request, reply and hub updates are one new call", () => {
    const s = new LiveStore();
    s.ingest("$rrpc/rxd/P1/d1/1000000031", enc("x"));
    s.ingest("$rrpc/txd/P1/d1/1000000031", enc("ok"));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000031", status: "success", event: "success", t: 1, rttMs: 1 }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000031", status: "success", event: "duplicate_reply", t: 9 }]));
    expect(s.getSnapshot()).toMatchObject({ messages: 4, calls: 1 });
  });

  it("caps memory, dropping the oldest calls, and counts what it dropped; snapshots are stable between changes", () => {
    const s = new LiveStore(3);
    s.mergeCalls(page([], null), "latest");
    for (let i = 0; i < 5; i++) s.ingest(`$rrpc/rxd/P1/d1/100000000${i}`, enc("x"));
    const snap = s.getSnapshot();
    expect(snap.rows.map((r) => r.processId)).toEqual(["1000000004", "1000000003", "1000000002"]);
    expect(snap.dropped).toBe(2);
    // What was dropped is reachable again in the store.
    expect(snap.olderBefore).toBe("1000000002");
    expect(s.getSnapshot()).toBe(snap);
  });

  it("keeps row identity for calls that did not change, and the rows list when only counters did", () => {
    const s = new LiveStore();
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000041", status: "success", event: "success", t: 1, rttMs: 1 }]));
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000042", status: "success", event: "success", t: 1, rttMs: 1 }]));
    const a = s.getSnapshot();
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000042", status: "success", event: "success", t: 1, rttMs: 1 }]));
    s.ingest("$rrpc/txd/P1/d1/1000000041", enc("again"));
    const b = s.getSnapshot();
    expect(b).not.toBe(a);
    expect(b.messages).toBe(4);
    expect(b.rows).toBe(a.rows);
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000042", status: "success", event: "duplicate_reply", t: 5 }]));
    const c = s.getSnapshot();
    expect(c.rows[0]).not.toBe(b.rows[0]);
    expect(c.rows[1]).toBe(b.rows[1]);
  });

  it("tells whether the next delta carries rows or presence, or only counters", () => {
    const s = new LiveStore(1);
    expect(s.rowsChanged).toBe(false);
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000061", status: "success", event: "success", t: 1, rttMs: 1 }]));
    expect(s.rowsChanged).toBe(true);
    s.takeDelta();
    expect(s.rowsChanged).toBe(false);
    // A duplicate reply to a call of the hub changes no row: counters only.
    s.ingest("$rrpc/txd/P1/d1/1000000061", enc("again"));
    expect(s.rowsChanged).toBe(false);
    expect(s.takeDelta()).toMatchObject({ rows: [], removed: [], presence: null, messages: 2 });
    // A new call past the cap drops the oldest: a row added, one removed.
    s.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000062" }]));
    expect(s.rowsChanged).toBe(true);
    expect(s.takeDelta()).toMatchObject({ removed: ["1000000061"] });
    s.ingest(LIVE_PRESENCE_TOPIC, enc(JSON.stringify([{ productId: "P1", deviceName: "d1", online: true, at: 1 }])));
    expect(s.rowsChanged).toBe(true);
  });

  it("a mirror fed with deltas shows what the source shows", () => {
    const src = new LiveStore(4);
    const mirror = new LiveStore();
    const sync = () => {
      const d = src.takeDelta();
      if (d) mirror.applyDelta(structuredClone(d));
    };
    src.mergeCalls(page([stored("1000000050"), stored("1000000049")], "1000000049"), "latest");
    sync();
    for (let i = 1; i <= 4; i++) src.ingest(LIVE_CALLS_TOPIC, hub([{ processId: `100000005${i}`, event: "requested", clientRef: `c${i}` }]));
    src.ingest(LIVE_PRESENCE_TOPIC, enc(JSON.stringify([{ productId: "P1", deviceName: "d1", online: true, at: 1 }])));
    sync();
    src.ingest(LIVE_CALLS_TOPIC, hub([{ processId: "1000000052", status: "timeout", event: "timeout", t: 4000 }]));
    sync();
    expect(src.takeDelta()).toBeNull();
    const a = src.getSnapshot();
    const b = mirror.getSnapshot();
    expect(b.rows).toEqual(a.rows);
    expect(b.rows.map((r) => r.processId)).toEqual(["1000000054", "1000000053", "1000000052", "1000000051"]);
    expect({ ...b, rows: null }).toEqual({ ...a, rows: null });
    expect(b.refs.get("c2")).toBe("1000000052");
    expect(b.presence.get("P1/d1")).toBe(true);
  });

  it("tracks presence and survives garbage", () => {
    const s = new LiveStore();
    s.ingest(LIVE_PRESENCE_TOPIC, enc(JSON.stringify([{ productId: "P1", deviceName: "d1", online: true, at: 1 }])));
    s.ingest(LIVE_PRESENCE_TOPIC, enc("{not json"));
    s.ingest(LIVE_CALLS_TOPIC, enc("\u0000\u0001"));
    s.ingest(LIVE_CALLS_TOPIC, enc("[null, 1, {}]"));
    s.ingest("$rrpc/txd/P1/d1/notanumber", enc("x"));
    expect(s.getSnapshot().presence.get("P1/d1")).toBe(true);
    expect(s.getSnapshot().rows).toEqual([]);
  });

  it("orders processIds as numbers and previews stored payloads from their start", () => {
    expect(["1000000010", "999", "1000000009"].sort(compareProcessIds)).toEqual(["999", "1000000009", "1000000010"]);
    const s = new LiveStore();
    s.mergeCalls(page([stored("1000000003"), stored("1000000002"), stored("1000000001")]), "latest");
    const rows = s.getSnapshot().rows;
    expect(["1000000001", "1000000002", "1000000003", "1000000004"].map((id) => findRow(rows, id)?.processId)).toEqual([
      "1000000001",
      "1000000002",
      "1000000003",
      undefined,
    ]);
    const big = Buffer.from("é".repeat(200)).toString("base64"); // 400 bytes
    const row = rowFromCall(stored("1000000060", { request: { payloadBase64: big } }));
    expect(row.request).toMatchObject({ bytes: 400, truncated: true, text: "é".repeat(128) });
  });
});
