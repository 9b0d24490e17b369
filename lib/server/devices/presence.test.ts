import { describe, expect, it } from "vitest";
import { PRESENCE_CHANGES_KEPT, PresenceLog } from "./presence";
import { ManualClock } from "../testing/clock";
import type { PresenceListener } from "../broker/embedded";

function setup() {
  const listeners: PresenceListener[] = [];
  const clock = new ManualClock(Date.parse("2026-03-01T00:00:00Z"));
  const log = new PresenceLog({ onPresence: (l) => void listeners.push(l) }, clock);
  const change = (deviceName: string, online: boolean) => listeners.forEach((l) => l({ productId: "P1", deviceName }, online));
  return { log, clock, change };
}

describe("devices' presence history", () => {
  it("keeps each device's changes with the time the broker saw them, newest first", () => {
    const { log, clock, change } = setup();
    clock.advance(1000);
    change("a", true);
    clock.advance(500);
    change("b", true);
    clock.advance(250);
    change("a", false);
    expect(log.of("P1", "a")).toEqual({
      tracked: true,
      since: "2026-03-01T00:00:00.000Z",
      complete: true,
      changes: [
        { at: "2026-03-01T00:00:01.750Z", online: false },
        { at: "2026-03-01T00:00:01.000Z", online: true },
      ],
    });
    expect(log.of("P1", "b").changes).toEqual([{ at: "2026-03-01T00:00:01.500Z", online: true }]);
    expect(log.of("P1", "never")).toMatchObject({ changes: [], complete: true });
  });

  it(`keeps the newest ${PRESENCE_CHANGES_KEPT} changes of a device and says older ones were forgotten`, () => {
    const { log, clock, change } = setup();
    for (let i = 0; i < PRESENCE_CHANGES_KEPT + 3; i++) {
      clock.advance(1);
      change("flappy", i % 2 === 0);
    }
    const p = log.of("P1", "flappy");
    expect(p.complete).toBe(false);
    expect(p.changes).toHaveLength(PRESENCE_CHANGES_KEPT);
    // The last change (i = 52) was online; they alternate back from there.
    expect(p.changes[0]).toEqual({ at: new Date(Date.parse("2026-03-01T00:00:00Z") + PRESENCE_CHANGES_KEPT + 3).toISOString(), online: true });
    expect(p.changes.map((c) => c.online)).toEqual(Array.from({ length: PRESENCE_CHANGES_KEPT }, (_, i) => i % 2 === 0));
  });
});
