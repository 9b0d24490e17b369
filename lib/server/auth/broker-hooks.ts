import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { BrokerAuthnAnswer, BrokerAuthzAnswer } from "../../rrpc/api";
import { log } from "../core/log";
import { decideLogin, mayPublish, mayRetain, maySubscribe, principalOf, type BrokerRules } from "./broker-rules";

/**
 * The broker rules (broker-rules.ts) over HTTP, in the shape EMQX 5's HTTP authenticator and
 * HTTP authorizer call (docs/scale-out.md, "Broker hooks"): POST a JSON body, answer
 * `{"result": "allow" | "deny"}`. Whatever is wrong with a body is a deny, never an error: EMQX
 * reads an error status as "ignore" and would ask the next source in its chain.
 */

/** The largest body read: an MQTT topic may be long, credentials are short. */
export const HOOK_BODY_MAX_BYTES = 16 * 1024;

const text = (max: number) => z.string().max(max);
/** EMQX renders a missing username or password as an empty string (or, in some versions, null or the literal "undefined"). */
const optionalText = (max: number) =>
  text(max)
    .nullish()
    .transform((v) => (v === null || v === undefined || v === "" || v === "undefined" ? undefined : v));

/** What EMQX posts to the authenticator, with docs/scale-out.md's body template. */
export const authnSchema = z.object({
  clientid: text(256).min(1),
  username: optionalText(1024),
  password: optionalText(4096),
});

/** What EMQX posts to the authorizer, with docs/scale-out.md's body template. */
export const authzSchema = z.object({
  clientid: text(256).min(1),
  username: optionalText(1024),
  topic: text(HOOK_BODY_MAX_BYTES).min(1),
  action: z.enum(["publish", "subscribe"]),
  // EMQX's ${retain} placeholder renders as a string in a JSON template, and as nothing for a subscription.
  retain: z.unknown().optional(),
});

type AuthnAnswer = BrokerAuthnAnswer;
type AuthzAnswer = BrokerAuthzAnswer;

const DENY = { result: "deny" } as const;

/** One answer to EMQX's HTTP authenticator, for any body (parsed JSON, or undefined when unreadable). */
export async function authnHook(rules: BrokerRules, body: unknown, now: number): Promise<AuthnAnswer> {
  const input = authnSchema.safeParse(body);
  if (!input.success) return DENY;
  const { clientid, username, password } = input.data;
  const d = await decideLogin(rules, { clientId: clientid, username, password }, now);
  if (!d.ok) {
    log.info("broker hook: login refused", { clientId: clientid.slice(0, 128), reason: d.reason });
    return DENY;
  }
  // EMQX (5.8+) disconnects the client at expire_at (Unix seconds): a live dashboard's credential ends its connection.
  return d.closeAt === null
    ? { result: "allow", is_superuser: false }
    : { result: "allow", is_superuser: false, expire_at: Math.floor(d.closeAt / 1000) };
}

/** One answer to EMQX's HTTP authorizer. */
export async function authzHook(rules: BrokerRules, body: unknown): Promise<AuthzAnswer> {
  const input = authzSchema.safeParse(body);
  if (!input.success) return DENY;
  const { clientid, username, topic, action, retain } = input.data;
  const who = await principalOf(rules, clientid, username);
  if (action === "subscribe") return { result: maySubscribe(who, topic) ? "allow" : "deny" };
  // The broker cannot be told to clear the retain flag (what the embedded broker does): refused instead.
  if ((retain === true || retain === "true" || retain === "1" || retain === 1) && !mayRetain(topic)) return DENY;
  return { result: mayPublish(who, topic) ? "allow" : "deny" };
}

/** Whether a request carries `Authorization: Bearer <RRPC_BROKER_HOOK_SECRET>`; constant-time whatever the lengths. */
export function hookSecretMatches(authorization: string | null, secret: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const given = digest(m?.[1] ?? "");
  return timingSafeEqual(given, digest(secret)) && m !== null;
}

/**
 * Keys every hub that shares RRPC_BROKER_HOOK_SECRET derives alike: whichever hub the broker's
 * hook request reaches verifies the hub logins and live-view tokens any other hub made.
 */
export function sharedBrokerKeys(secret: string): { hubPassword: string; liveTokenKey: Buffer } {
  const derive = (label: string) => createHmac("sha256", secret).update(`rrpc-hub broker hooks\0${label}`).digest();
  return { hubPassword: derive("hub mqtt password").toString("base64url"), liveTokenKey: derive("live tokens") };
}
