import type { AedesOptions, Client } from "aedes";
import { randomBytes } from "node:crypto";
import { deviceRequestFilter } from "../../rrpc/topics";
import { CONNACK_RETURN_CODES, clientIdSplits, verifyDeviceLogin } from "./device-auth";
import { safeEqual, type TokenSigner } from "./tokens";
import { log } from "../core/log";

/** The registry as the broker needs it: a device's secret and whether it may log in. */
export type DeviceLogins = { deviceAuthRecord(productId: string, deviceName: string): Promise<{ secret: string; disabled: boolean } | null> };

export const HUB_USERNAME = "rrpc-hub";
export const LIVE_USERNAME = "rrpc-live";
/** Where a refused PUBLISH goes: no client may subscribe here (see authorizeSubscribe). */
const DROPPED_TOPIC = "$rrpc-hub/dropped";

export type Principal = { role: "hub" } | { role: "observer" } | { role: "device"; productId: string; deviceName: string };

export type BrokerAccess = {
  hooks: Pick<AedesOptions, "authenticate" | "authorizePublish" | "authorizeSubscribe">;
  /** Clients that watch RRPC traffic without being devices: the hub and live dashboards. */
  isObserver(client: Client): boolean;
  /** What the hub connects with: generated at start, never written anywhere. */
  hubCredentials: { username: string; password: string };
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
 * key authentication and stay inside their own topics; the hub uses an internal credential; live
 * dashboards use short-lived tokens and may only watch.
 */
export function brokerAccess(opts: {
  registry: DeviceLogins;
  liveTokens: TokenSigner;
  hubClientPrefix: string;
  liveClientPrefix: string;
}): BrokerAccess {
  const principals = new WeakMap<Client, Principal>();
  const hubPassword = randomBytes(24).toString("base64url");

  const authenticate: AedesOptions["authenticate"] = (client, username, password, done) => {
    const pass = password ? password.toString("utf8") : "";
    if (username === HUB_USERNAME) {
      if (client.id.startsWith(opts.hubClientPrefix) && safeEqual(pass, hubPassword)) {
        principals.set(client, { role: "hub" });
        return done(null, true);
      }
      return done(refuse("bad hub credentials", 4), false);
    }
    if (username === LIVE_USERNAME) {
      const token = opts.liveTokens.open(pass);
      if (client.id.startsWith(opts.liveClientPrefix) && token?.payload === "live") {
        principals.set(client, { role: "observer" });
        // The credential's life is the connection's: at expiry the dashboard reconnects with a new one.
        setTimeout(() => client.close(), token.expiresAt - Date.now()).unref();
        return done(null, true);
      }
      return done(refuse("bad or expired live token", 4), false);
    }
    void deviceLogin(client.id, username, password).then(
      (r) => {
        if (!r.ok) {
          log.info("device login refused", { clientId: client.id, reason: r.reason });
          return done(refuse(r.message, CONNACK_RETURN_CODES[r.reason]), false);
        }
        principals.set(client, { role: "device", productId: r.productId, deviceName: r.deviceName });
        done(null, true);
      },
      (err: Error) => {
        log.warn("device login failed: the store did not answer", { clientId: client.id, error: err.message });
        done(refuse("the hub cannot check logins now", 3), false);
      },
    );
  };

  /** The devices a client id may name are read first; the check itself is synchronous (device-auth.ts). */
  async function deviceLogin(clientId: string, username: string | undefined, password: Buffer | undefined) {
    const records = new Map<string, { secret: string; disabled: boolean } | null>();
    for (const c of clientIdSplits(clientId))
      records.set(`${c.productId}/${c.deviceName}`, await opts.registry.deviceAuthRecord(c.productId, c.deviceName));
    return verifyDeviceLogin({ clientId, username, password, now: Date.now() / 1000, secretFor: (p, d) => records.get(`${p}/${d}`) ?? null });
  }

  const authorizeSubscribe: AedesOptions["authorizeSubscribe"] = (client, sub, done) => {
    const who = principals.get(client);
    const topic = sub.topic;
    let ok = false;
    if (who?.role === "hub") ok = topic.startsWith("$rrpc/txd/");
    else if (who?.role === "observer") ok = topic.startsWith("$rrpc/rxd/") || topic.startsWith("$rrpc/txd/") || topic.startsWith("rrpc-hub/");
    else if (who?.role === "device") {
      ok = topic === deviceRequestFilter(who.productId, who.deviceName) || topic.startsWith(`${who.productId}/${who.deviceName}/`);
    }
    if (ok) return done(null, sub);
    log.info("subscription refused", { clientId: client.id, topic });
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
    const who = principals.get(client);
    const topic = packet.topic;
    // RRPC messages are for the moment: a retained request or reply would be replayed to every
    // later subscriber (and stored without bound). They go through, but are never retained.
    if (packet.retain && topic.startsWith("$rrpc/")) packet.retain = false;
    let ok = false;
    if (who?.role === "hub") ok = topic.startsWith("$rrpc/rxd/") || topic.startsWith("rrpc-hub/");
    else if (who?.role === "device") {
      ok = topic.startsWith(`$rrpc/txd/${who.productId}/${who.deviceName}/`) || topic.startsWith(`${who.productId}/${who.deviceName}/`);
      if (ok && packet.retain) packet.retain = retained.keep(`${who.productId}/${who.deviceName}`, topic, packet.payload.length);
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
    hubCredentials: { username: HUB_USERNAME, password: hubPassword },
    isDevice: (client, productId, deviceName) => {
      const who = principals.get(client);
      return who?.role === "device" && who.productId === productId && who.deviceName === deviceName;
    },
  };
}
