import type { DevicePresence } from "../../rrpc/api";
import type { EmbeddedBroker } from "../broker/embedded";
import { clock as systemClock, type Clock } from "../core/call";

/** Online/offline changes kept per device, newest; older ones are forgotten. */
export const PRESENCE_CHANGES_KEPT = 50;
/** Devices whose changes are kept; the one that changed least recently is forgotten first. */
export const PRESENCE_DEVICES_KEPT = 10_000;

/** A device's changes: epoch ms, oldest first; they alternate, the last one is its current state. */
type Entry = { at: number[]; online: boolean; dropped: boolean };

/**
 * Each device's online/offline changes as the embedded broker sees them (a device is online
 * while it is subscribed to its request topic), since this process started. Kept in memory only,
 * bounded: PRESENCE_CHANGES_KEPT per device, PRESENCE_DEVICES_KEPT devices.
 */
export class PresenceLog {
  private readonly devices = new Map<string, Entry>();
  /** Some device's changes were forgotten (more than PRESENCE_DEVICES_KEPT changed). */
  private forgot = false;
  readonly since: number;

  constructor(
    broker: Pick<EmbeddedBroker, "onPresence">,
    private readonly clock: Clock = systemClock,
  ) {
    this.since = clock.epoch(clock.now());
    broker.onPresence(({ productId, deviceName }, online) => this.record(productId, deviceName, online));
  }

  record(productId: string, deviceName: string, online: boolean): void {
    const key = `${productId}/${deviceName}`;
    const e = this.devices.get(key) ?? { at: [], online, dropped: false };
    // Most recently changed last: the first in the map is the one to forget.
    this.devices.delete(key);
    this.devices.set(key, e);
    e.at.push(this.clock.epoch(this.clock.now()));
    e.online = online;
    if (e.at.length > PRESENCE_CHANGES_KEPT) {
      e.at.shift();
      e.dropped = true;
    }
    if (this.devices.size > PRESENCE_DEVICES_KEPT) {
      this.devices.delete(this.devices.keys().next().value!);
      this.forgot = true;
    }
  }

  /** The device's changes, newest first. */
  of(productId: string, deviceName: string): DevicePresence {
    const e = this.devices.get(`${productId}/${deviceName}`);
    const changes = (e?.at ?? []).map((at, i, all) => ({
      at: new Date(at).toISOString(),
      online: (all.length - 1 - i) % 2 === 0 ? e!.online : !e!.online,
    }));
    return { tracked: true, since: new Date(this.since).toISOString(), changes: changes.reverse(), complete: e ? !e.dropped : !this.forgot };
  }
}
