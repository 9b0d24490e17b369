import type { MqttClient } from "mqtt";
import { CLIENT_EVENT_FILTERS, parseClientEvent } from "../../rrpc/broker-events";
import { deviceClientId } from "../../rrpc/topics";
import { clientIdSplits } from "../auth/device-auth";
import type { DeviceLogins } from "../auth/broker-rules";
import type { PresenceListener } from "../broker/embedded";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { log } from "../core/log";

/** Client ids whose last event is kept; the one that changed least recently is forgotten first. */
export const CLIENTS_TRACKED = 100_000;

type Seen = { connected: boolean; at: number | null };

/**
 * Devices' presence on an external broker, from the connect/disconnect events it publishes on
 * $SYS (EMQX, RMQTT: docs/scale-out.md, "Presence"). A device whose last event says it
 * disconnected is offline: calls to it fail fast. A device never seen in an event is unknown, and
 * calls to it end as before (a timeout when nobody answers): a broker without such events
 * (Mosquitto) changes nothing.
 */
export class BrokerPresence {
  private readonly seen = new Map<string, Seen>();
  private readonly listeners: PresenceListener[] = [];
  private applied: Promise<void> = Promise.resolve();

  constructor(private readonly registry: DeviceLogins) {}

  onPresence(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** Whether the device's last event says it is disconnected (false when unknown). */
  isOffline(productId: string, deviceName: string): boolean {
    return this.seen.get(deviceClientId(productId, deviceName))?.connected === false;
  }

  /** Forgets every client: after a reconnection events may have been missed, and a stale "offline" would refuse calls to an online device. */
  forget(): void {
    this.seen.clear();
  }

  /**
   * One message on a $SYS client-event topic; anything malformed is ignored. Events are applied
   * one after the other, in the order they came (the registry's answers are asynchronous).
   */
  handle(topic: string, payload: Uint8Array): Promise<void> {
    const e = parseClientEvent(topic, payload);
    if (!e) return this.applied;
    this.applied = this.applied.then(
      () => this.apply(e),
      () => this.apply(e),
    );
    return this.applied;
  }

  private async apply(e: NonNullable<ReturnType<typeof parseClientEvent>>): Promise<void> {
    const devices: { productId: string; deviceName: string }[] = [];
    const splits = clientIdSplits(e.clientId);
    const known = await this.registry.deviceAuthRecords(splits);
    for (const c of splits) if (known.has(`${c.productId}/${c.deviceName}`)) devices.push(c);
    // Not a registered device's client id (the hub, a dashboard), or one two devices share: not tracked.
    if (devices.length !== 1) return;
    const before = this.seen.get(e.clientId);
    // Events from several broker nodes may arrive out of order: the broker's own time decides.
    if (before && before.at !== null && e.at !== null && e.at < before.at) return;
    this.seen.delete(e.clientId);
    this.seen.set(e.clientId, { connected: e.connected, at: e.at });
    if (this.seen.size > CLIENTS_TRACKED) this.seen.delete(this.seen.keys().next().value!);
    if (before?.connected === e.connected) return;
    for (const l of this.listeners) l(devices[0]!, e.connected);
  }
}

export type BrokerPresenceClient = { presence: BrokerPresence; readonly subscribed: boolean; stop(): Promise<void> };

/** Subscribes to the broker's client events with the hub's login, on a connection of its own. */
export function startBrokerPresence(opts: {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  registry: DeviceLogins;
}): BrokerPresenceClient {
  const presence = new BrokerPresence(opts.registry);
  let subscribed = false;
  const client: MqttClient = connectMqtt(opts.url, {
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    resubscribe: false,
    // A broker whose login hook cannot answer yet refuses the login: try again (docs/scale-out.md).
    reconnectOnConnackError: true,
  });
  client.on("connect", () => {
    presence.forget();
    client.subscribe([...CLIENT_EVENT_FILTERS], { qos: 0 }, (err, granted) => {
      if (err || granted?.some((g) => g.qos === 128)) {
        log.info("broker client events not available: calls to offline devices end as timeout", { error: err?.message ?? "refused" });
        return;
      }
      subscribed = true;
    });
  });
  client.on("close", () => (subscribed = false));
  client.on("error", (err) => log.debug("broker events connection error", { error: err.message }));
  client.on("message", (topic, payload) => {
    presence.handle(topic, payload).catch((err: Error) => log.warn("a broker client event was not applied", { topic, error: err.message }));
  });
  return {
    presence,
    get subscribed() {
      return subscribed;
    },
    stop: () => endMqtt(client, true),
  };
}
