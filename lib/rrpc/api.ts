/**
 * The HTTP API's request and response shapes, shared by the server's handlers and the browser's
 * client (lib/hooks/api-client.ts). Types only: no I/O.
 */
import type { Role } from "./roles";
import type { z } from "zod";
import type {
  commandCallSchema,
  commandSchema,
  createBatchSchema,
  createCallSchema,
  createDeviceSchema,
  createKeySchema,
  productSettingsSchema,
  signInSchema,
  updateDeviceSchema,
} from "./schemas";
import type { FieldError } from "./topics";
import type { CallerKind, CallJson, CallStatus, DeviceSummary } from "./types";
import type { CommandParam } from "./template";
export type { BatchCounts, BatchJson, BatchList, BatchStatus, BatchTarget, BatchTargetsPage, BatchTargetStatus } from "./batch";

/** Every error answer of the native API. `call` is present when a call was made. */
export type ApiErrorBody = {
  error: { code: string; message: string; fields?: FieldError[] };
  call?: CallJson;
};

/** GET /api/calls */
export type CallsPage = { calls: CallJson[]; nextBefore: string | null };
/** GET /api/calls/count */
export type CallCount = { total: number };

/** GET /api/devices */
export type DeviceList = { devices: DeviceSummary[] };

/** A registered device (PATCH /api/devices/{productId}/{deviceName}); never with its secret. */
export type DeviceInfo = { productId: string; deviceName: string; disabled: boolean; createdAt: string };

/** POST /api/devices: the only answer that carries the device's secret. */
export type NewDevice = { productId: string; deviceName: string; secret: string };

/** GET /api/devices/{productId}/{deviceName}/connect */
export type DeviceConnectInfo = {
  clientId: string;
  username: string;
  password: string;
  expiresAt: string;
  /** The embedded broker's TCP address; null with an external broker. */
  mqtt: { host: string; port: number } | null;
  /** Tencent's C SDK device_info.json, with the secret left out. */
  deviceInfo: string;
};

/** An API key as listed; never with its SecretKey. */
export type ApiKeyInfo = {
  secretId: string;
  name: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** What the key may do (README, "Team accounts and roles"). */
  role: Role;
};
/** GET /api/keys */
export type ApiKeyList = { keys: ApiKeyInfo[] };
/** POST /api/keys: the only answer that carries the SecretKey. */
export type NewApiKey = { secretId: string; secretKey: string };

/** GET /api/session, POST /api/session */
export type SessionInfo = {
  required: boolean;
  user: string | null;
  /** The signed-in user's role; "admin" while sign-in is off (the local caller may do everything); null when not signed in. */
  role: Role | null;
};

/** A team account (GET /api/users). */
export type UserInfo = { name: string; role: Role; createdAt: string; disabled: boolean };
/** GET /api/users */
export type UserList = { users: UserInfo[] };

/** GET /api/live: where and how a browser's live view connects. */
export type LiveConfig = {
  url: string | null;
  port: number | null;
  path: string;
  clientIdPrefix: string;
  /** A short-lived, read-only MQTT credential for this browser (embedded broker). */
  username: string | null;
  password: string | null;
  expiresAt: number | null;
};

/** POST /api/broker/authn: EMQX 5's HTTP authenticator reads `result`; `expire_at` (Unix seconds, EMQX 5.8+) ends the connection then. */
export type BrokerAuthnAnswer = { result: "allow"; is_superuser: false; expire_at?: number } | { result: "deny" };

/** POST /api/broker/authz: EMQX 5's HTTP authorizer reads `result`. */
export type BrokerAuthzAnswer = { result: "allow" | "deny" };

/** GET /api/limits: what a call may carry, as this hub is configured. */
export type Limits = {
  maxPayloadBytes: number;
  maxReplyBytes: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  defaultTimeoutMs: number;
  /** Request-size limits of the products that have one (PUT /api/products/{productId}), by product id. */
  productLimits: Record<string, number>;
};

/** A product's settings (GET /api/products/{productId}). */
export type ProductInfo = {
  productId: string;
  /** Registered devices of the product. */
  devices: number;
  /** The product's request-size limit in bytes; null when only RRPC_MAX_PAYLOAD applies. */
  maxRequestBytes: number | null;
  /** What a call to the product may carry: the lower of maxRequestBytes and RRPC_MAX_PAYLOAD. */
  effectiveMaxRequestBytes: number;
  /** When the settings last changed; null when they never have. */
  updatedAt: string | null;
};

/** GET /api/products: every product with registered devices or settings. */
export type ProductList = { products: ProductInfo[] };

/** A saved command (GET /api/commands/{id}): a payload template with typed parameters. */
export type Command = {
  id: string;
  name: string;
  description?: string;
  /** When set, the command may only be sent to devices of this product. */
  productId?: string;
  payload: string;
  encoding: "utf8" | "base64";
  params: CommandParam[];
  timeoutMs?: number;
  createdAt: string;
  updatedAt: string;
};
/** GET /api/commands */
export type CommandList = { commands: Command[] };

/** GET /api/health */
export type Health = {
  /** Calls can be made: the broker is connected and the store can write. */
  ok: boolean;
  broker: "embedded" | "external";
  brokerConnected: boolean;
  /** Whether the store can write; while it cannot, new calls are refused (503 store_unavailable) and `error` says why. */
  store: { writable: boolean; error?: string };
  inFlight: number;
  /** Replies since start that were not a call's answer; `unrecorded` are beyond a call's trace limit. */
  replies: { stray: number; foreign: number; late: number; duplicate: number; unrecorded: number };
  mqtt: { tcpPort: number; wsPort: number; wsPath: string } | null;
  simulator: { productId: string; deviceName: string } | null;
};

/** Filters of GET /api/calls and /api/calls/export, as query parameters. */
export type CallsFilter = {
  productId?: string;
  deviceName?: string;
  productIdPrefix?: string;
  deviceNamePrefix?: string;
  status?: CallStatus | "";
  batchId?: string;
  commandId?: string;
  callerKind?: CallerKind | "";
  callerId?: string;
  from?: string;
  to?: string;
};

// Request bodies, as a client writes them (defaults may be left out): the server's schemas' input.

/** POST /api/calls */
export type CallRequest = z.input<typeof createCallSchema>;
/** POST /api/calls with a saved command */
export type CommandCallRequest = z.input<typeof commandCallSchema>;
/** POST /api/commands, PUT /api/commands/{id} */
export type CommandRequest = z.input<typeof commandSchema>;
/** POST /api/batches */
export type BatchRequest = z.input<typeof createBatchSchema>;
/** POST /api/devices */
export type NewDeviceRequest = z.input<typeof createDeviceSchema>;
/** PATCH /api/devices/{productId}/{deviceName} */
export type DeviceUpdate = z.input<typeof updateDeviceSchema>;
/** PUT /api/products/{productId} */
export type ProductSettingsRequest = z.input<typeof productSettingsSchema>;
/** POST /api/keys */
export type NewApiKeyRequest = z.input<typeof createKeySchema>;
/** POST /api/session */
export type SignInRequest = z.input<typeof signInSchema>;

// ---- observability: stats over the stored calls, presence ----

/**
 * One time bucket of GET /api/stats: calls that started in [t, t + bucket), counted by status,
 * and the exact round-trip percentiles (nearest rank, ms) of its successful calls (null when none).
 */
export type StatsBucket = { t: number; calls: number; p50: number | null; p95: number | null; p99: number | null } & Record<CallStatus, number>;

/** GET /api/stats: `from`, `to` and each bucket's `t` in epoch ms; `bucket` in seconds. */
export type CallStats = { from: number; to: number; bucket: number; buckets: StatsBucket[] };

/** A device's calls over a range (GET /api/stats/devices); percentiles of its successful calls, ms. */
export type DeviceCallStats = {
  productId: string;
  deviceName: string;
  calls: number;
  success: number;
  /** Calls that ended other than success (pending ones are neither). */
  failures: number;
  failureRate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
};

/** GET /api/stats/devices: the slowest devices (by p95) and the most failing (by failures), each at most `limit`. */
export type DeviceStatsRanking = { from: number; to: number; slowest: DeviceCallStats[]; failing: DeviceCallStats[] };

/**
 * GET /api/devices/{productId}/{deviceName}/presence: the device's online/offline changes seen by
 * the embedded broker since `since` (the hub's start), newest first. `tracked` is false with an
 * external broker; `complete` is false when older changes were forgotten.
 */
export type DevicePresence = { tracked: boolean; since: string | null; changes: { at: string; online: boolean }[]; complete: boolean };
