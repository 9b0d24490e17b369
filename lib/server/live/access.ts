import type { LiveConfig } from "../../rrpc/api";
import { LIVE_USERNAME } from "../auth/broker-acl";
import type { TokenSigner } from "../auth/tokens";

/** MQTT client ids of live dashboards: they watch RRPC traffic and are not devices. */
export const LIVE_CLIENT_PREFIX = "rrpc-live-";
export const LIVE_TOKEN_TTL_MS = 10 * 60 * 1000;

/**
 * Where and how a browser's live view connects: a short-lived, read-only MQTT credential for
 * the embedded broker, or for an external one that checks it through the hub's broker hooks
 * (`brokerHooks`, docs/scale-out.md). The page's own host name is used unless `publicUrl`
 * (MQTT_WS_PUBLIC_URL) is set.
 */
export function liveConfig(opts: { liveTokens: TokenSigner; wsPort: number | null; publicUrl?: string; brokerHooks?: boolean }): LiveConfig {
  const signed = opts.wsPort !== null || (opts.brokerHooks === true && opts.publicUrl !== undefined);
  const token = signed ? opts.liveTokens.sign("live", LIVE_TOKEN_TTL_MS) : null;
  return {
    url: opts.publicUrl ?? null,
    port: opts.wsPort,
    path: "/mqtt",
    clientIdPrefix: LIVE_CLIENT_PREFIX,
    username: token ? LIVE_USERNAME : null,
    password: token?.token ?? null,
    expiresAt: token?.expiresAt ?? null,
  };
}
