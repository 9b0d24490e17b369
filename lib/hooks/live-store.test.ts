import { describe, expect, it } from "vitest";
import { LiveStore } from "./live-store";
import { LIVE_CALLS_TOPIC, LIVE_PRESENCE_TOPIC, type LiveCallUpdate } from "../rrpc/live";

const enc = (s: string) => new TextEncoder().encode(s);
const hub = (u: Partial<LiveCallUpdate>[]) =>
  enc(
    JSON.stringify(
      u.map((x) => ({ productId: "P1", deviceName: "d1", status: "pending", event: "requested", t: 0, at: 1000, timeoutMs: 4000, ...x })),
    ),
  );

describe("LiveStore", () => {
  it("pairs a raw request and reply into one row by processId, newest first", () => {
    const s = new LiveStore();
    s.ingest("$rrpc/rxd/P1/d1/1000000001", enc("closed"), 100);
    s.ingest("$rrpc/rxd/P1/d1/1000000002", enc("open"), 110);
    s.ingest("$rrpc/txd/P1/d1/1000000001", enc("ok"), 103);
    const rows = s.getSnapshot().rows;
    expect(rows.map((r) => r.processId)).toEqual(["1000000002", "1000000001"]);
    expect(rows[1]).toMatchObject({ status: "success", rttMs: 3, request: { text: "closed" }, reply: { text: "ok" } });
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

  it("caps memory and counts what it dropped; snapshots are stable between changes", () => {
    const s = new LiveStore(3);
    for (let i = 0; i < 5; i++) s.ingest(`$rrpc/rxd/P1/d1/100000000${i}`, enc("x"));
    const snap = s.getSnapshot();
    expect(snap.rows.map((r) => r.processId)).toEqual(["1000000004", "1000000003", "1000000002"]);
    expect(snap.dropped).toBe(2);
    expect(s.getSnapshot()).toBe(snap);
  });

  it("tracks presence and survives garbage", () => {
    const s = new LiveStore();
    s.ingest(LIVE_PRESENCE_TOPIC, enc(JSON.stringify([{ productId: "P1", deviceName: "d1", online: true, at: 1 }])));
    s.ingest(LIVE_PRESENCE_TOPIC, enc("{not json"));
    s.ingest(LIVE_CALLS_TOPIC, enc("\u0000\u0001"));
    s.ingest("$rrpc/txd/P1/d1/notanumber", enc("x"));
    expect(s.getSnapshot().presence.get("P1/d1")).toBe(true);
    expect(s.getSnapshot().rows).toEqual([]);
  });
});
