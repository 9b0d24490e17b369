/**
 * The HTTP API's answers as zod schemas: what GET /api/openapi.json documents
 * (lib/server/http/openapi.ts) and what the tests check real answers against. The TypeScript
 * types the code uses (api.ts, types.ts, payload.ts) must stay equal to these: api-schemas.test.ts
 * fails the typecheck when one changes without the other. No I/O.
 */
import { z } from "zod";
import { CALLER_KINDS, CALL_STATUSES, TERMINAL_STATUSES, type CallEventType, type CallStatus } from "./types";
import { BATCH_TARGET_STATUSES, type BatchTargetStatus } from "./batch";
import { PARAM_TYPES } from "./template";
import { ROLES } from "./roles";

/**
 * Named schemas: each is one entry of the document's `components.schemas`, referenced by
 * `$ref` wherever it appears. A schema not named here is written out in place.
 */
export const API_COMPONENTS = new Map<string, z.ZodType>();

function named<T extends z.ZodType>(id: string, schema: T): T {
  if (API_COMPONENTS.has(id)) throw new Error(`two response schemas are named ${id}`);
  API_COMPONENTS.set(id, schema);
  return schema;
}

const isoTime = z.string().meta({ format: "date-time" });

export const callStatusSchema = named("CallStatus", z.enum(CALL_STATUSES as [CallStatus, ...CallStatus[]]));

const EVENT_TYPES = [
  "requested",
  "published",
  "delivered",
  "replied",
  ...TERMINAL_STATUSES,
  "foreign_reply",
  "late_reply",
  "duplicate_reply",
] as const satisfies readonly CallEventType[];

export const payloadViewSchema = named(
  "Payload",
  z.object({
    payloadBase64: z.string().describe("the bytes, standard base64"),
    payloadText: z.string().optional().describe("the bytes as text, present when they are valid UTF-8"),
  }),
);

export const callEventSchema = named(
  "CallEvent",
  z.object({
    type: z.enum(EVENT_TYPES),
    at: isoTime.describe("wall-clock time of the event"),
    t: z.number().describe("milliseconds since the call was requested (monotonic clock)"),
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
);

export const callSchema = named(
  "Call",
  z.object({
    processId: z.string().describe("10-digit decimal, strictly increasing"),
    messageId: z.number().int().describe("the processId as a number"),
    productId: z.string(),
    deviceName: z.string(),
    status: callStatusSchema,
    request: payloadViewSchema,
    reply: payloadViewSchema.optional().describe("the device's reply; absent unless it replied (and within RRPC_MAX_REPLY)"),
    timeoutMs: z.number().int(),
    startedAt: isoTime,
    endedAt: isoTime.optional(),
    rttMs: z.number().optional().describe("requested → reply received, for successful calls"),
    events: z.array(callEventSchema).describe("the trace: every hop, in order"),
    batchId: z.string().optional().describe("the batch that made the call"),
    commandId: z.string().optional().describe("the saved command whose template gave the payload"),
    caller: z
      .object({ kind: z.enum(CALLER_KINDS), id: z.string(), name: z.string() })
      .optional()
      .describe("who made the call: an operator, an API key, a Tencent key, a batch, or a loopback caller with sign-in off"),
  }),
);

export const fieldErrorSchema = named("FieldError", z.object({ field: z.string(), message: z.string() }));

/** The `error` member of every error answer; the document narrows `code` to each status's codes. */
export const apiErrorSchema = z.object({
  code: z.string().describe("stable error code"),
  message: z.string(),
  fields: z.array(fieldErrorSchema).optional().describe("each invalid field, for invalid_request"),
});

const errorCall = callSchema.optional().describe("the call, when one was made (it has a processId and is in the history)");

/** Every error answer of the native API. */
export const apiErrorBodySchema = named("Error", z.object({ error: apiErrorSchema, call: errorCall }));

/** The error answer of a response whose codes are `codes`: an Error whose code is one of them. */
export const errorBodyFor = (codes: readonly [string, ...string[]]) =>
  z.intersection(apiErrorBodySchema, z.looseObject({ error: z.looseObject({ code: z.enum(codes) }) }));

export const callsPageSchema = named(
  "CallsPage",
  z.object({
    calls: z.array(callSchema),
    nextBefore: z.string().nullable().describe("pass as `before` for the next page; null on the last page"),
  }),
);

export const callCountSchema = named("CallCount", z.object({ total: z.number().int() }));

export const deviceSummarySchema = named(
  "DeviceSummary",
  z.object({
    productId: z.string(),
    deviceName: z.string(),
    registered: z.boolean().describe("in the registry (may log in); false for devices only seen in past calls"),
    disabled: z.boolean(),
    createdAt: isoTime.nullable(),
    online: z.boolean().nullable().describe("null with an external broker"),
    calls: z.number().int(),
    successRate: z.number().nullable(),
    lastCall: z.object({ processId: z.string(), status: callStatusSchema, at: isoTime }).nullable(),
    p50Ms: z.number().nullable(),
    p95Ms: z.number().nullable(),
  }),
);

export const deviceListSchema = named("DeviceList", z.object({ devices: z.array(deviceSummarySchema) }));

export const deviceInfoSchema = named(
  "Device",
  z.object({ productId: z.string(), deviceName: z.string(), disabled: z.boolean(), createdAt: isoTime }),
);

export const newDeviceSchema = named(
  "NewDevice",
  z.object({
    productId: z.string(),
    deviceName: z.string(),
    secret: z.string().describe("the device's secret (base64 of 16 bytes): shown this once"),
  }),
);

export const deviceConnectInfoSchema = named(
  "DeviceConnect",
  z.object({
    clientId: z.string(),
    username: z.string(),
    password: z.string(),
    expiresAt: isoTime,
    mqtt: z
      .object({ host: z.string(), port: z.number().int() })
      .nullable()
      .describe("the embedded broker's TCP address; null with an external broker"),
    deviceInfo: z.string().describe("Tencent's C SDK device_info.json, with the secret left out"),
  }),
);

export const apiKeyInfoSchema = named(
  "ApiKey",
  z.object({
    secretId: z.string(),
    name: z.string().nullable(),
    createdAt: isoTime,
    revokedAt: isoTime.nullable(),
    lastUsedAt: isoTime.nullable(),
    role: z.enum(ROLES).describe("what the key may do"),
  }),
);

export const apiKeyListSchema = named("ApiKeyList", z.object({ keys: z.array(apiKeyInfoSchema) }));

export const newApiKeySchema = named("NewApiKey", z.object({ secretId: z.string(), secretKey: z.string().describe("shown this once") }));

export const sessionInfoSchema = named(
  "Session",
  z.object({
    required: z.boolean().describe("sign-in is on"),
    user: z.string().nullable().describe("the signed-in user"),
    role: z
      .enum(ROLES)
      .nullable()
      .describe("the signed-in user's role; admin while sign-in is off (the local caller may do everything); null when not signed in"),
  }),
);

export const roleSchema = named(
  "Role",
  z
    .enum(ROLES)
    .describe(
      "viewer: sees everything, sends nothing; operator: also sends calls, runs commands and batches, edits commands; admin: also devices, API keys and users",
    ),
);

export const userInfoSchema = named(
  "User",
  z.object({ name: z.string(), role: roleSchema, createdAt: isoTime, disabled: z.boolean().describe("cannot sign in; sessions ended") }),
);

export const userListSchema = named("UserList", z.object({ users: z.array(userInfoSchema) }));

export const brokerAuthnAnswerSchema = named(
  "BrokerAuthnAnswer",
  z.union([
    z.object({
      result: z.literal("allow"),
      is_superuser: z.literal(false),
      expire_at: z
        .number()
        .int()
        .optional()
        .describe("Unix seconds: the credential's end (a live view's token); EMQX 5.8+ disconnects the client then"),
    }),
    z.object({ result: z.literal("deny") }),
  ]),
);

export const brokerAuthzAnswerSchema = named("BrokerAuthzAnswer", z.object({ result: z.enum(["allow", "deny"]) }));

export const liveConfigSchema = named(
  "LiveConfig",
  z.object({
    url: z.string().nullable(),
    port: z.number().int().nullable(),
    path: z.string(),
    clientIdPrefix: z.string(),
    username: z.string().nullable().describe("a short-lived, read-only MQTT credential (embedded broker)"),
    password: z.string().nullable(),
    expiresAt: z.number().nullable().describe("epoch milliseconds"),
  }),
);

export const limitsSchema = named(
  "Limits",
  z.object({
    maxPayloadBytes: z.number().int(),
    maxReplyBytes: z.number().int(),
    minTimeoutMs: z.number().int(),
    maxTimeoutMs: z.number().int(),
    defaultTimeoutMs: z.number().int(),
    productLimits: z
      .record(z.string(), z.number().int())
      .describe("request-size limits of the products that have one (PUT /api/products/{productId}), by product id"),
  }),
);

export const productInfoSchema = named(
  "Product",
  z.object({
    productId: z.string(),
    devices: z.number().int().describe("registered devices of the product"),
    maxRequestBytes: z.number().int().nullable().describe("the product's request-size limit; null when only RRPC_MAX_PAYLOAD applies"),
    effectiveMaxRequestBytes: z.number().int().describe("what a call to the product may carry: the lower of maxRequestBytes and RRPC_MAX_PAYLOAD"),
    updatedAt: isoTime.nullable().describe("when the settings last changed; null when they never have"),
  }),
);

export const productListSchema = named("ProductList", z.object({ products: z.array(productInfoSchema) }));

export const healthSchema = named(
  "Health",
  z.object({
    ok: z.boolean().describe("calls can be made: the broker is connected and the store can write"),
    broker: z.enum(["embedded", "external"]),
    brokerConnected: z.boolean(),
    store: z.object({ writable: z.boolean(), error: z.string().optional() }),
    inFlight: z.number().int(),
    replies: z.object({
      stray: z.number().int(),
      foreign: z.number().int(),
      late: z.number().int(),
      duplicate: z.number().int(),
      unrecorded: z.number().int(),
    }),
    mqtt: z.object({ tcpPort: z.number().int(), wsPort: z.number().int(), wsPath: z.string() }).nullable(),
    simulator: z.object({ productId: z.string(), deviceName: z.string() }).nullable(),
  }),
);

export const payloadPreviewSchema = named(
  "PayloadPreview",
  z.object({
    bytes: z.number().int(),
    text: z.string().optional().describe("UTF-8 text of the first 256 bytes, when they decode"),
    base64: z.string().optional().describe("base64 of the first 256 bytes, when they are not text"),
    truncated: z.boolean(),
  }),
);

const paramValue = z.union([z.string(), z.number(), z.boolean()]);

export const commandParamSchema = named(
  "CommandParam",
  z.object({
    name: z.string(),
    type: z.enum(PARAM_TYPES),
    values: z
      .array(z.union([z.string(), z.number()]))
      .optional()
      .describe("the choices of an enum"),
    min: z.number().optional(),
    max: z.number().optional(),
    default: paramValue.optional(),
    required: z.boolean().optional().describe("by default, a parameter without a default is required"),
  }),
);

export const commandSchemaOut = named(
  "Command",
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string().optional(),
    productId: z.string().optional().describe("when set, the command may only be sent to devices of this product"),
    payload: z.string().describe("the template: `{{name}}` stands for a parameter's value"),
    encoding: z.enum(["utf8", "base64"]),
    params: z.array(commandParamSchema),
    timeoutMs: z.number().int().optional(),
    createdAt: isoTime,
    updatedAt: isoTime,
  }),
);

export const commandListSchema = named("CommandList", z.object({ commands: z.array(commandSchemaOut) }));

const batchCounts = Object.fromEntries(BATCH_TARGET_STATUSES.map((s) => [s, z.number().int()])) as Record<BatchTargetStatus, z.ZodNumber>;

export const batchSchema = named(
  "Batch",
  z.object({
    batchId: z.string(),
    status: z.enum(["running", "done", "cancelled", "interrupted"]),
    total: z.number().int(),
    counts: z.object(batchCounts).describe("targets by status; `pending` until a target has its outcome"),
    unsent: z.number().int().describe("targets that never got a call (cancelled, or left unsent by a hub that stopped)"),
    startedAt: isoTime,
    endedAt: isoTime.optional(),
    durationMs: z.number().optional(),
    commandId: z.string().optional(),
    params: z.record(z.string(), paramValue).optional(),
    payload: payloadPreviewSchema,
    timeoutMs: z.number().int(),
    concurrency: z.number().int(),
    ratePerSecond: z.number().optional(),
    createdBy: z.string().optional(),
    retryOf: z.string().optional().describe("the batch this one retries"),
  }),
);

export const batchListSchema = named("BatchList", z.object({ batches: z.array(batchSchema) }));

export const batchTargetSchema = named(
  "BatchTarget",
  z.object({
    index: z.number().int(),
    productId: z.string(),
    deviceName: z.string(),
    status: z.enum(BATCH_TARGET_STATUSES),
    processId: z.string().optional().describe("the call made for it; absent when none was"),
  }),
);

export const batchTargetsPageSchema = named(
  "BatchTargetsPage",
  z.object({ targets: z.array(batchTargetSchema), nextAfter: z.number().int().nullable().describe("pass as `after` for the next page") }),
);

const statusCounts = Object.fromEntries(CALL_STATUSES.map((s) => [s, z.number().int()])) as Record<CallStatus, z.ZodNumber>;

export const statsBucketSchema = named(
  "StatsBucket",
  z.object({
    t: z.number().describe("the bucket's start, epoch ms"),
    calls: z.number().int(),
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    p99: z.number().nullable(),
    ...statusCounts,
  }),
);

export const callStatsSchema = named(
  "CallStats",
  z.object({ from: z.number(), to: z.number(), bucket: z.number().int().describe("seconds"), buckets: z.array(statsBucketSchema) }),
);

export const deviceCallStatsSchema = named(
  "DeviceCallStats",
  z.object({
    productId: z.string(),
    deviceName: z.string(),
    calls: z.number().int(),
    success: z.number().int(),
    failures: z.number().int(),
    failureRate: z.number(),
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    p99: z.number().nullable(),
  }),
);

export const deviceStatsRankingSchema = named(
  "DeviceStatsRanking",
  z.object({ from: z.number(), to: z.number(), slowest: z.array(deviceCallStatsSchema), failing: z.array(deviceCallStatsSchema) }),
);

export const devicePresenceSchema = named(
  "DevicePresence",
  z.object({
    tracked: z.boolean().describe("false with an external broker"),
    since: isoTime.nullable(),
    changes: z.array(z.object({ at: isoTime, online: z.boolean() })),
    complete: z.boolean().describe("false when older changes were forgotten"),
  }),
);
