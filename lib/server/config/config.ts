import { createHash } from "node:crypto";
import { z } from "zod";
import { hashPassword, isPasswordHash } from "../auth/tokens";
import { isLoopback } from "../auth/hosts";
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from "../../rrpc/types";

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(["0", "1", "true", "false", "yes", "no", "on", "off", ""]).transform((v) => v === "" || ["1", "true", "yes", "on"].includes(v));

/**
 * The largest RRPC_MAX_REPLY. One call is answered as one JSON string (POST /api/calls, GET
 * /api/calls/{processId}): a 64 MiB reply of control characters, which JSON escapes sixfold,
 * plus its base64 stays below V8's longest string (2^29 − 24 characters).
 */
const MAX_REPLY_LIMIT = 64 * 1024 * 1024;

const schema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(3000),
  MQTT_HOST: z.string().min(1).default("127.0.0.1"),
  MQTT_PORT: port.default(1883),
  MQTT_WS_HOST: z.string().min(1).optional(),
  MQTT_WS_PORT: port.default(8083),
  MQTT_URL: z.string().url().optional(),
  RRPC_DB: z.string().min(1).default("./data/rrpc.db"),
  // The message names the schemes only: a bad URL's text (and its password) is not echoed.
  DATABASE_URL: z
    .string()
    .refine((u) => /^postgres(ql)?:\/\/[^/]/.test(u) && URL.canParse(u), { message: "must be a postgres:// or postgresql:// URL" })
    .optional(),
  RRPC_HUB_LEASE_MS: z.coerce.number().int().min(3000).max(300_000).default(15_000),
  RRPC_SIMULATOR: flag.default(true),
  RRPC_MAX_PAYLOAD: z.coerce
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(DEFAULT_MAX_PAYLOAD_BYTES),
  RRPC_MAX_REPLY: z.coerce.number().int().min(1).max(MAX_REPLY_LIMIT).default(DEFAULT_MAX_REPLY_BYTES),
  MQTT_MAX_PACKET: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(256 * 1024 * 1024)
    .optional(),
  RRPC_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(10_000),
  RRPC_RETENTION_CALLS: z.coerce.number().int().min(1000).default(1_000_000),
  RRPC_DEFAULT_TIMEOUT_MS: z.coerce.number().int().min(MIN_TIMEOUT_MS).max(MAX_TIMEOUT_MS).default(DEFAULT_TIMEOUT_MS),
  MQTT_WS_PUBLIC_URL: z.string().url().optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  RRPC_BOOTSTRAP_KEY: z
    .string()
    .regex(/^[^:]+:.+$/, "must be <SecretId>:<SecretKey>")
    .optional(),
  RRPC_OPERATOR_USER: z.string().min(1).default("admin"),
  RRPC_ALLOWED_HOSTS: z
    .string()
    .regex(/^[A-Za-z0-9.:_-]+(,[A-Za-z0-9.:_-]+)*$/, "must be host names separated by commas")
    .optional(),
  RRPC_OPERATOR_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  RRPC_OPERATOR_PASSWORD_HASH: z.string().refine(isPasswordHash, "must be scrypt$N$r$p$salt$hash (npm run keys -- hash-password)").optional(),
  RRPC_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").max(1000).optional(),
  RRPC_BROKER_HOOK_SECRET: z.string().min(32, "must be at least 32 characters").max(1000).regex(/^\S+$/, "must not contain spaces").optional(),
});

export type HubConfig = {
  httpHost: string;
  httpPort: number;
  mqttHost: string;
  mqttPort: number;
  mqttWsHost: string;
  mqttWsPort: number;
  /** External broker; when set no embedded broker starts. */
  mqttUrl?: string;
  dbPath: string;
  /** PostgreSQL instead of the SQLite file dbPath (docs/storage.md); the password is never logged. */
  databaseUrl?: string;
  /**
   * With DATABASE_URL, hubs sharing the database end the work of one whose heartbeat is older
   * than this (docs/scale-out.md); it heartbeats every third of it, at most every 5 s.
   */
  hubLeaseMs: number;
  simulator: boolean;
  maxPayloadBytes: number;
  /** A reply larger than this ends its call `reply_too_large` and is not kept. */
  maxReplyBytes: number;
  /** The largest MQTT packet the embedded broker reads from a client. */
  mqttMaxPacketBytes: number;
  maxInFlight: number;
  defaultTimeoutMs: number;
  /** The store keeps the newest this many calls. */
  retentionCalls: number;
  /** Where browsers reach the broker over WebSocket, when not the page's host and MQTT_WS_PORT. */
  mqttWsPublicUrl?: string;
  /** Credentials for an external broker (MQTT_URL). */
  mqttUsername?: string;
  mqttPassword?: string;
  bootstrapKey?: string;
  /** Operator sign-in: required when any listener is beyond loopback, or when credentials are configured. */
  operator: { user: string; passwordHash: string } | null;
  /** Some listener is bound beyond loopback. */
  exposed: boolean;
  /** Host names served besides loopback ones; null: any (exposed, sign-in on). See auth/hosts.ts. */
  allowedHosts: string[] | null;
  /** A bearer token that may read GET /metrics (for scrapers) when sign-in is on; never logged. */
  metricsToken?: string;
  /**
   * Turns on the external broker's HTTP hooks (POST /api/broker/authn and /authz, called with
   * `Authorization: Bearer <secret>`), and the hub's and live view's logins every hub sharing it
   * accepts (docs/scale-out.md). Only with mqttUrl; never logged.
   */
  brokerHookSecret?: string;
};

export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`rrpc-hub: invalid configuration\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.RRPC_BROKER_HOOK_SECRET && !e.MQTT_URL) {
    throw new Error("rrpc-hub: invalid configuration\n  RRPC_BROKER_HOOK_SECRET: the broker hooks are for an external broker: set MQTT_URL too");
  }
  const listeners: [string, string][] = [["HOST", e.HOST]];
  if (!e.MQTT_URL) listeners.push(["MQTT_HOST", e.MQTT_HOST], ["MQTT_WS_HOST", e.MQTT_WS_HOST ?? e.MQTT_HOST]);
  const beyond = listeners.filter(([, h]) => !isLoopback(h));
  const exposed = beyond.length > 0;
  // The same password gives the same hash at every start (its salt comes from the user name): the
  // sessions' signing key depends on it (runtime.ts), so a restart keeps operators signed in and a
  // new password signs them out. The hash is kept in memory only.
  const passwordHash =
    e.RRPC_OPERATOR_PASSWORD_HASH ??
    (e.RRPC_OPERATOR_PASSWORD
      ? hashPassword(e.RRPC_OPERATOR_PASSWORD, createHash("sha256").update(`rrpc-hub operator\0${e.RRPC_OPERATOR_USER}`).digest().subarray(0, 16))
      : null);
  if (exposed && !passwordHash) {
    const where = beyond.map(([k, h]) => `${k}=${h}`).join(", ");
    throw new Error(
      `rrpc-hub: refusing to start: listening beyond loopback (${where}) needs operator credentials.\n` +
        `  Set RRPC_OPERATOR_PASSWORD (12+ characters) or RRPC_OPERATOR_PASSWORD_HASH, or bind HOST/MQTT_HOST/MQTT_WS_HOST to 127.0.0.1.`,
    );
  }
  return {
    httpHost: e.HOST,
    httpPort: e.PORT,
    mqttHost: e.MQTT_HOST,
    mqttPort: e.MQTT_PORT,
    mqttWsHost: e.MQTT_WS_HOST ?? e.MQTT_HOST,
    mqttWsPort: e.MQTT_WS_PORT,
    mqttUrl: e.MQTT_URL,
    dbPath: e.RRPC_DB,
    databaseUrl: e.DATABASE_URL,
    hubLeaseMs: e.RRPC_HUB_LEASE_MS,
    simulator: e.RRPC_SIMULATOR,
    maxPayloadBytes: e.RRPC_MAX_PAYLOAD,
    maxReplyBytes: e.RRPC_MAX_REPLY,
    // Room for the largest request or reply, its topic and the header: a reply a little over
    // RRPC_MAX_REPLY still reaches the hub and ends its call reply_too_large (docs/protocol.md, "Payloads").
    mqttMaxPacketBytes: e.MQTT_MAX_PACKET ?? Math.max(2 * 1024 * 1024, Math.max(e.RRPC_MAX_PAYLOAD, e.RRPC_MAX_REPLY) + 64 * 1024),
    maxInFlight: e.RRPC_MAX_IN_FLIGHT,
    defaultTimeoutMs: e.RRPC_DEFAULT_TIMEOUT_MS,
    retentionCalls: e.RRPC_RETENTION_CALLS,
    mqttWsPublicUrl: e.MQTT_WS_PUBLIC_URL,
    mqttUsername: e.MQTT_USERNAME,
    mqttPassword: e.MQTT_PASSWORD,
    bootstrapKey: e.RRPC_BOOTSTRAP_KEY,
    operator: passwordHash ? { user: e.RRPC_OPERATOR_USER, passwordHash } : null,
    exposed,
    allowedHosts: exposed ? null : (e.RRPC_ALLOWED_HOSTS?.toLowerCase().split(",") ?? []),
    metricsToken: e.RRPC_METRICS_TOKEN,
    brokerHookSecret: e.RRPC_BROKER_HOOK_SECRET,
  };
}

/** The address a local client uses to reach a listener bound to `host`. */
export function connectHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
