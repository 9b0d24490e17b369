import { CLIENT_EVENT_FILTERS } from "../../rrpc/broker-events";
import { deviceRequestFilter } from "../../rrpc/topics";
import { CONNACK_RETURN_CODES, clientIdSplits, verifyDeviceLogin, type DeviceLoginFailure } from "./device-auth";
import { safeEqual, type TokenSigner } from "./tokens";

/**
 * The broker's security rules, once, without a transport: who may log in, and what each kind of
 * client may subscribe to and publish. The embedded broker applies them through aedes's hooks
 * (broker-acl.ts); an external broker through the HTTP hooks (broker-hooks.ts, docs/scale-out.md).
 */

/** The registry as the broker needs it: a device's secret and whether it may log in. */
export type DeviceLogins = {
  /** The registered ones of `devices`, by "productId/deviceName" (devices/registry.ts: one query for all of a client id's splits). */
  deviceAuthRecords(devices: readonly { productId: string; deviceName: string }[]): Promise<Map<string, { secret: string; disabled: boolean }>>;
};

type AuthRecord = { secret: string; disabled: boolean };

/** The records of every device a client id may name, read first: the checks themselves are synchronous (device-auth.ts). */
const recordsFor = (rules: BrokerRules, clientId: string): Promise<Map<string, AuthRecord>> =>
  rules.registry.deviceAuthRecords(clientIdSplits(clientId));

export const HUB_USERNAME = "rrpc-hub";
export const LIVE_USERNAME = "rrpc-live";

export type Principal = { role: "hub" } | { role: "observer" } | { role: "device"; productId: string; deviceName: string };

export type BrokerRules = {
  registry: DeviceLogins;
  /** Verifies the live dashboards' credentials (live/access.ts). */
  liveTokens: TokenSigner;
  /** The hub's own MQTT password. */
  hubPassword: string;
  hubClientPrefix: string;
  liveClientPrefix: string;
};

export type Login = { clientId: string; username: string | undefined; password: Buffer | string | undefined };

export type LoginDecision =
  | {
      ok: true;
      who: Principal;
      /** Epoch ms at which the credential stops being valid and the connection must end; null: never. */
      closeAt: number | null;
    }
  | { ok: false; reason: "bad_hub_credentials" | "bad_live_token" | DeviceLoginFailure; returnCode: 4 | 5; message: string };

/** Whether a client may connect, and as whom. `now` in epoch ms. */
export async function decideLogin(rules: BrokerRules, login: Login, now: number): Promise<LoginDecision> {
  const pass = login.password === undefined ? "" : typeof login.password === "string" ? login.password : login.password.toString("utf8");
  if (login.username === HUB_USERNAME) {
    if (login.clientId.startsWith(rules.hubClientPrefix) && safeEqual(pass, rules.hubPassword))
      return { ok: true, who: { role: "hub" }, closeAt: null };
    return { ok: false, reason: "bad_hub_credentials", returnCode: 4, message: "bad hub credentials" };
  }
  if (login.username === LIVE_USERNAME) {
    const token = rules.liveTokens.open(pass, now);
    if (login.clientId.startsWith(rules.liveClientPrefix) && token?.payload === "live") {
      // The credential's life is the connection's: at expiry the dashboard reconnects with a new one.
      return { ok: true, who: { role: "observer" }, closeAt: token.expiresAt };
    }
    return { ok: false, reason: "bad_live_token", returnCode: 4, message: "bad or expired live token" };
  }
  const records = await recordsFor(rules, login.clientId);
  const r = verifyDeviceLogin({
    clientId: login.clientId,
    username: login.username,
    password: login.password,
    now: now / 1000,
    secretFor: (p, d) => records.get(`${p}/${d}`) ?? null,
  });
  if (!r.ok) return { ok: false, reason: r.reason, returnCode: CONNACK_RETURN_CODES[r.reason], message: r.message };
  return { ok: true, who: { role: "device", productId: r.productId, deviceName: r.deviceName }, closeAt: null };
}

/**
 * Whom a connected client logged in as, from its client id and username alone: what an external
 * broker's authorization hook knows. Only for clients the login rules let in (the broker asks
 * about no other). A device must still be registered and enabled; a client id that two
 * registered devices share (docs/scale-out.md, "Limits") is nobody.
 */
export async function principalOf(rules: BrokerRules, clientId: string, username: string | undefined): Promise<Principal | null> {
  if (username === HUB_USERNAME) return clientId.startsWith(rules.hubClientPrefix) ? { role: "hub" } : null;
  if (username === LIVE_USERNAME) return clientId.startsWith(rules.liveClientPrefix) ? { role: "observer" } : null;
  if (!username || username.split(";")[0] !== clientId) return null;
  const records = await recordsFor(rules, clientId);
  const registered = clientIdSplits(clientId).filter((c) => records.get(`${c.productId}/${c.deviceName}`));
  if (registered.length !== 1) return null;
  const { productId, deviceName } = registered[0]!;
  if (records.get(`${productId}/${deviceName}`)!.disabled) return null;
  return { role: "device", productId, deviceName };
}

/** Whether this client may subscribe to this filter. */
export function maySubscribe(who: Principal | null, filter: string): boolean {
  switch (who?.role) {
    case "hub":
      return filter.startsWith("$rrpc/txd/") || (CLIENT_EVENT_FILTERS as readonly string[]).includes(filter);
    case "observer":
      return filter.startsWith("$rrpc/rxd/") || filter.startsWith("$rrpc/txd/") || filter.startsWith("rrpc-hub/");
    case "device":
      return filter === deviceRequestFilter(who.productId, who.deviceName) || filter.startsWith(`${who.productId}/${who.deviceName}/`);
    default:
      return false;
  }
}

/** Whether this client may publish on this topic. */
export function mayPublish(who: Principal | null, topic: string): boolean {
  switch (who?.role) {
    case "hub":
      return topic.startsWith("$rrpc/rxd/") || topic.startsWith("rrpc-hub/");
    case "device":
      return topic.startsWith(`$rrpc/txd/${who.productId}/${who.deviceName}/`) || topic.startsWith(`${who.productId}/${who.deviceName}/`);
    default:
      return false;
  }
}

/**
 * RRPC messages are for the moment: a retained request or reply would be replayed to every later
 * subscriber. The embedded broker clears the flag; a broker that can only allow or deny denies.
 */
export const mayRetain = (topic: string): boolean => !topic.startsWith("$rrpc/");
