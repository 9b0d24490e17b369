import type { AedesOptions, Client } from "aedes";
import { randomBytes } from "node:crypto";
import { log } from "../core/log";
import { decideLogin, mayPublish, mayRetain, maySubscribe, type BrokerRules, type DeviceLogins, type Principal } from "./broker-rules";
import type { TokenSigner } from "./tokens";

export { HUB_USERNAME, LIVE_USERNAME, type DeviceLogins, type Principal } from "./broker-rules";

/** Where a refused PUBLISH goes: no client may subscribe here (see authorizeSubscribe). */
const DROPPED_TOPIC = "$rrpc-hub/dropped";

export type BrokerAccess = {
  hooks: Pick<AedesOptions, "authenticate" | "authorizePublish" | "authorizeSubscribe">;
  /** Clients that watch RRPC traffic without being devices: the hub and live dashboards. */
  isObserver(client: Client): boolean;
  /** Whether this client logged in as that device. */
  isDevice(client: Client, productId: string, deviceName: string): boolean;
};

/** 3: "server unavailable" (the store did not answer), 4: bad user name or password, 5: not authorized. */
type Refusal = Error & { returnCode: 3 | 4 | 5 };
const REFUSAL_LOG_EVERY_MS = 60_000;
const refuse = (message: string, returnCode: 3 | 4 | 5): Refusal => Object.assign(new Error(message), { returnCode });

/** Retained topics a device may keep, and the largest retained payload. */
export const RETAINED_TOPICS_PER_DEVICE = 100;
export const RETAINED_PAYLOAD_MAX = 64 * 1024;

/**
 * Bounds what devices leave retained on the broker (in its memory, replayed to every new
 * subscriber): a device keeps at most RETAINED_TOPICS_PER_DEVICE topics of at most
 * RETAINED_PAYLOAD_MAX bytes; beyond that its messages are delivered but not retained.
 */
class RetainedBudget {
  private readonly topics = new Map<string, Set<string>>();

  /** Whether this retained publish may stay retained; an empty payload clears the topic. */
  keep(device: string, topic: string, bytes: number): boolean {
    let set = this.topics.get(device);
    if (bytes === 0) {
      set?.delete(topic);
      return true;
    }
    if (bytes > RETAINED_PAYLOAD_MAX) return false;
    if (!set) this.topics.set(device, (set = new Set()));
    if (set.has(topic)) return true;
    if (set.size >= RETAINED_TOPICS_PER_DEVICE) return false;
    set.add(topic);
    return true;
  }
}

/**
 * Who may connect, subscribe and publish on the embedded broker. Devices log in with Tencent's
 * key authentication and stay inside their own topics; live dashboards use short-lived tokens and
 * may only watch. The embedded hub needs no login (broker/inproc-transport.ts): the hub's rule is
 * kept for the HTTP hooks of an external broker, and here its password is random and never told.
 */
export function brokerAccess(opts: {
  registry: DeviceLogins;
  liveTokens: TokenSigner;
  hubClientPrefix: string;
  liveClientPrefix: string;
  /** For a hub that connects over MQTT (tests, the bench's colocated-mqtt row); random otherwise. */
  hubPassword?: string;
}): BrokerAccess {
  const principals = new WeakMap<Client, Principal>();
  const rules: BrokerRules = { ...opts, hubPassword: opts.hubPassword ?? randomBytes(24).toString("base64url") };

  const authenticate: AedesOptions["authenticate"] = (client, username, password, done) => {
    decideLogin(rules, { clientId: client.id, username, password }, Date.now()).then(
      (d) => {
        if (!d.ok) {
          if (d.reason !== "bad_hub_credentials" && d.reason !== "bad_live_token")
            log.info("device login refused", { clientId: client.id, reason: d.reason });
          return done(refuse(d.message, d.returnCode), false);
        }
        principals.set(client, d.who);
        if (d.closeAt !== null) setTimeout(() => client.close(), d.closeAt - Date.now()).unref();
        done(null, true);
      },
      (err: Error) => {
        log.warn("device login failed: the store did not answer", { clientId: client.id, error: err.message });
        // MQTT 3.1.1 §3.2.2.3: return code 3, server unavailable.
        done(refuse("the hub cannot check logins now", 3), false);
      },
    );
  };

  const authorizeSubscribe: AedesOptions["authorizeSubscribe"] = (client, sub, done) => {
    if (maySubscribe(principals.get(client) ?? null, sub.topic)) return done(null, sub);
    log.info("subscription refused", { clientId: client.id, topic: sub.topic });
    // MQTT 3.1.1 §3.9.3: return code 0x80 (failure) for this filter; the connection stays.
    done(null, null);
  };

  const retained = new RetainedBudget();
  const refusals = new WeakMap<Client, { since: number; suppressed: number }>();
  /** One line per client per REFUSAL_LOG_EVERY_MS, the topic cut short: a flood of refused publishes must not flood the log. */
  const logRefusal = (client: Client, topic: string) => {
    const now = Date.now();
    const r = refusals.get(client);
    if (r && now - r.since < REFUSAL_LOG_EVERY_MS) {
      r.suppressed++;
      return;
    }
    log.warn("publish refused and dropped", {
      clientId: client.id.slice(0, 128),
      topic: topic.length > 200 ? `${topic.slice(0, 200)}…` : topic,
      ...(r?.suppressed ? { refusedSinceLastLine: r.suppressed } : {}),
    });
    refusals.set(client, { since: now, suppressed: 0 });
  };

  const authorizePublish: AedesOptions["authorizePublish"] = (client, packet, done) => {
    if (!client) return done(null); // the broker's own messages ($SYS)
    const who = principals.get(client) ?? null;
    const topic = packet.topic;
    if (packet.retain && !mayRetain(topic)) packet.retain = false;
    const ok = mayPublish(who, topic);
    if (ok && packet.retain && who?.role === "device") {
      packet.retain = retained.keep(`${who.productId}/${who.deviceName}`, topic, packet.payload.length);
    }
    if (ok) return done(null);
    // MQTT 3.1.1 §3.3.5: a refused PUBLISH is acknowledged as usual or the connection closed.
    // We acknowledge it and deliver it to nobody, so a misbehaving device is logged, not cut off.
    logRefusal(client, topic);
    packet.topic = DROPPED_TOPIC;
    done(null);
  };

  return {
    hooks: { authenticate, authorizeSubscribe, authorizePublish },
    isObserver: (client) => {
      const role = principals.get(client)?.role;
      return role === "hub" || role === "observer";
    },
    isDevice: (client, productId, deviceName) => {
      const who = principals.get(client);
      return who?.role === "device" && who.productId === productId && who.deviceName === deviceName;
    },
  };
}
