/**
 * The HTTP API's answers as zod schemas: what GET /api/openapi.json documents
 * (lib/server/http/openapi.ts) and what the tests check real answers against. The TypeScript
 * types the code uses (api.ts, types.ts, payload.ts) must stay equal to these: api-schemas.test.ts
 * fails the typecheck when one changes without the other. No I/O.
 */
import { z } from "zod";
import { CALL_STATUSES, TERMINAL_STATUSES, type CallEventType, type CallStatus } from "./types";

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
  }),
);

export const apiKeyListSchema = named("ApiKeyList", z.object({ keys: z.array(apiKeyInfoSchema) }));

export const newApiKeySchema = named("NewApiKey", z.object({ secretId: z.string(), secretKey: z.string().describe("shown this once") }));

export const sessionInfoSchema = named(
  "Session",
  z.object({ required: z.boolean().describe("sign-in is on"), user: z.string().nullable().describe("the signed-in operator") }),
);

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
  }),
);

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
