import { afterEach, describe, expect, it, vi } from "vitest";
import { startLiveFeed } from "./feed";
import { LIVE_CALLS_TOPIC, type LiveCallUpdate } from "../../rrpc/live";
import type { CallRecord, StoredEvent } from "../core/call";
import type { CallUpdate, Hub } from "../calls/hub";

/** The part of the hub the feed uses: its listeners and its raw publish. */
function fakeHub() {
  const listeners: ((u: CallUpdate) => void)[] = [];
  const published: { topic: string; updates: LiveCallUpdate[] }[] = [];
  const hub = {
    onUpdate: (l: (u: CallUpdate) => void) => void listeners.push(l),
    publishRaw: (topic: string, payload: string | Buffer) => {
      published.push({ topic, updates: JSON.parse(String(payload)) as LiveCallUpdate[] });
      return true;
    },
  } as unknown as Hub;
  const emit = (call: CallRecord, event: StoredEvent) => {
    call.events.push(event);
    for (const l of listeners) l({ call, event });
  };
  return { hub, published, emit };
}

const call = (processId: string, clientRef?: string): CallRecord => ({
  processId,
  messageId: Number(processId),
  productId: "P1",
  deviceName: "d1",
  source: "api",
  status: "pending",
  request: new TextEncoder().encode("closed"),
  timeoutMs: 4000,
  startedAt: 1_000_000,
  events: [],
  ...(clientRef ? { clientRef } : {}),
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the live feed", () => {
  it("echoes a call's clientRef from its first update (requested) on, before the call ends; calls without one carry none", () => {
    vi.useFakeTimers();
    const { hub, published, emit } = fakeHub();
    const stop = startLiveFeed(hub, null);
    const mine = call("1000000001", "ref-abc_1");
    const theirs = call("1000000002");
    emit(mine, { type: "requested", t: 0 });
    emit(theirs, { type: "requested", t: 0 });
    vi.advanceTimersByTime(100);
    expect(published).toHaveLength(1);
    expect(published[0]!.topic).toBe(LIVE_CALLS_TOPIC);
    const [a, b] = published[0]!.updates;
    expect(a).toMatchObject({ processId: "1000000001", status: "pending", event: "requested", clientRef: "ref-abc_1" });
    expect(b!.processId).toBe("1000000002");
    expect(b).not.toHaveProperty("clientRef");

    mine.status = "success";
    mine.reply = new TextEncoder().encode("ok");
    mine.rttMs = 1.5;
    emit(mine, { type: "success", t: 1.5 });
    vi.advanceTimersByTime(100);
    expect(published[1]!.updates).toEqual([
      expect.objectContaining({ processId: "1000000001", status: "success", clientRef: "ref-abc_1", rttMs: 1.5 }),
    ]);
    stop();
  });
});
