import { z } from "zod";
import { base64ToBytes, isBase64, utf8Bytes } from "./payload";
import { CALLER_KINDS, CALL_STATUSES, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, type CallStatus } from "./types";
import { DEVICE_NAME_RE, PRODUCT_ID_RE, checkProductId } from "./topics";
import { PARAM_TYPES, templateErrors } from "./template";
import { BATCH_TARGET_STATUSES, MAX_BATCH_CONCURRENCY, type BatchTargetStatus } from "./batch";
import { ROLES } from "./roles";
import { DEFAULT_STATS_RANGE_MS, MAX_STATS_BUCKETS, defaultBucketSeconds } from "./stats";

// `.meta()` below documents (GET /api/openapi.json) rules that the hub checks itself, with the same values.
const productIdDoc = { pattern: PRODUCT_ID_RE.source, description: "1–10 upper-case letters or digits (an MQTT topic level)" };
const deviceNameDoc = { pattern: DEVICE_NAME_RE.source, description: "1–48 letters, digits, ':', '_' or '-' (an MQTT topic level)" };

/** A client's correlation token for a call (POST /api/calls `clientRef`). */
export const CLIENT_REF_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * POST /api/calls; parsing also decodes the payload to its bytes. Topic-level and size rules
 * are the hub's (one place, every entry point).
 */
export const createCallSchema = z
  .strictObject({
    productId: z.string().meta(productIdDoc),
    deviceName: z.string().meta(deviceNameDoc),
    payload: z.string().meta({ description: "the request payload: text (utf8) or standard base64 (base64); at most RRPC_MAX_PAYLOAD bytes" }),
    encoding: z.enum(["utf8", "base64"]).default("utf8"),
    timeoutMs: z
      .number()
      .int()
      .meta({ minimum: MIN_TIMEOUT_MS, maximum: MAX_TIMEOUT_MS, description: "default RRPC_DEFAULT_TIMEOUT_MS (4000)" })
      .optional(),
    /**
     * The caller's own token for this call, echoed in the live feed's updates of it (never
     * stored): a console learns its call's processId as soon as it is allocated, before the answer.
     */
    clientRef: z.string().regex(CLIENT_REF_PATTERN, "1 to 64 letters, digits, '_' or '-'").optional(),
  })
  .transform(({ payload, encoding, ...rest }, ctx) => {
    if (encoding === "base64" && !isBase64(payload)) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: "not valid base64" });
      return z.NEVER;
    }
    return { ...rest, payload: encoding === "base64" ? base64ToBytes(payload) : utf8Bytes(payload) };
  });
export type CreateCallInput = z.infer<typeof createCallSchema>;

const paramValues = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({});

/** POST /api/calls running a saved command: the payload is the command's template, rendered with `params`. */
export const commandCallSchema = z.strictObject({
  productId: z.string(),
  deviceName: z.string(),
  commandId: z.string().min(1).max(100),
  params: paramValues,
  timeoutMs: z.number().int().optional(),
});
export type CommandCallInput = z.infer<typeof commandCallSchema>;

const commandParamSchema = z.strictObject({
  name: z.string(),
  type: z.enum(PARAM_TYPES),
  values: z
    .array(z.union([z.string().max(200), z.number()]))
    .max(200)
    .optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
});

/** POST /api/commands, PUT /api/commands/{id}. The template's rules are lib/rrpc/template.ts's. */
export const commandSchema = z
  .strictObject({
    name: z.string().trim().min(1, "a name is required").max(100),
    description: z.string().max(1000).optional(),
    productId: z.string().min(1).optional(),
    payload: z.string(),
    encoding: z.enum(["utf8", "base64"]).default("utf8"),
    params: z.array(commandParamSchema).max(50).default([]),
    timeoutMs: z.number().int().min(MIN_TIMEOUT_MS).max(MAX_TIMEOUT_MS).optional(),
  })
  .superRefine((c, ctx) => {
    const product = c.productId === undefined ? null : checkProductId(c.productId);
    if (product) ctx.addIssue({ code: "custom", path: ["productId"], message: product.message });
    if (c.encoding === "base64" && !isBase64(c.payload)) ctx.addIssue({ code: "custom", path: ["payload"], message: "not valid base64" });
    for (const e of templateErrors(c)) ctx.addIssue({ code: "custom", path: e.field.split("."), message: e.message });
  });
export type CommandInput = z.infer<typeof commandSchema>;
export const commandIdParam = z.object({ id: z.string().min(1).max(100) });

const deviceRef = z.strictObject({ productId: z.string(), deviceName: z.string() });

/** POST /api/batches: a payload, or a saved command with its parameters, to many devices. */
export const createBatchSchema = z
  .strictObject({
    targets: z.union([
      z.strictObject({ devices: z.array(deviceRef).min(1, "at least one device") }),
      z.strictObject({ productId: z.string(), onlineOnly: z.boolean().default(false) }),
    ]),
    payload: z.string().optional(),
    encoding: z.enum(["utf8", "base64"]).default("utf8"),
    commandId: z.string().min(1).max(100).optional(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    timeoutMs: z.number().int().optional(),
    concurrency: z.number().int().min(1).max(MAX_BATCH_CONCURRENCY).default(100),
    ratePerSecond: z.number().positive().max(1_000_000).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.payload === undefined) === (b.commandId === undefined)) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: "give either payload or commandId" });
    }
    if (b.params !== undefined && b.commandId === undefined) ctx.addIssue({ code: "custom", path: ["params"], message: "params go with commandId" });
    if (b.payload !== undefined && b.encoding === "base64" && !isBase64(b.payload)) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: "not valid base64" });
    }
  });
export type CreateBatchInput = z.infer<typeof createBatchSchema>;
/** POST /api/batches query: `wait=1` answers once the batch ends (or after `waitMs`). */
export const createBatchQuery = z.object({
  wait: z.enum(["0", "1", "true", "false"]).optional(),
  waitMs: z.coerce.number().int().min(0).max(300_000).optional(),
});
/** POST /api/batches/{id}/retry: the sending settings may change. */
export const retryBatchSchema = z
  .strictObject({
    timeoutMs: z.number().int().optional(),
    concurrency: z.number().int().min(1).max(MAX_BATCH_CONCURRENCY).optional(),
    ratePerSecond: z.number().positive().max(1_000_000).optional(),
  })
  .default({});
export const batchIdParam = z.object({ batchId: z.string().min(1).max(100) });
/** GET /api/batches/{id}/targets */
export const listTargetsSchema = z.object({
  status: z.enum(BATCH_TARGET_STATUSES as unknown as [BatchTargetStatus, ...BatchTargetStatus[]]).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.coerce.number().int().min(-1).default(-1),
});
/** GET /api/batches/{id}/export */
export const exportTargetsSchema = z.object({ format: z.enum(["csv", "json"]).default("csv") });

export const processIdParam = z
  .string()
  .regex(/^[0-9]{1,16}$/, "must be a decimal processId")
  .transform(Number);

const timeParam = z.union([z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.coerce.number().int().nonnegative()]);

/** GET /api/calls query string. */
export const listCallsSchema = z.object({
  productId: z.string().min(1).optional(),
  deviceName: z.string().min(1).optional(),
  /** Ids starting with this, in any case. */
  productIdPrefix: z.string().min(1).max(64).optional().describe("product ids starting with this, in any case"),
  deviceNamePrefix: z.string().min(1).max(64).optional().describe("device names starting with this, in any case"),
  status: z.enum(CALL_STATUSES as [CallStatus, ...CallStatus[]]).optional(),
  batchId: z.string().min(1).max(100).optional(),
  commandId: z.string().min(1).max(100).optional(),
  callerKind: z.enum(CALLER_KINDS).optional(),
  callerId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: processIdParam.optional().describe("a processId: only older calls (a page's nextBefore)"),
  /** Time range on startedAt: ISO 8601 or epoch milliseconds. */
  from: timeParam.optional().describe("startedAt at or after: ISO 8601 or epoch milliseconds"),
  to: timeParam.optional().describe("startedAt at or before: ISO 8601 or epoch milliseconds"),
});
export type ListCallsInput = z.infer<typeof listCallsSchema>;

/** GET /api/calls/count: the same filters, no paging. */
export const countCallsSchema = listCallsSchema.omit({ limit: true, before: true });

/** GET /api/calls/export: the same filters, no paging. */
export const exportCallsSchema = listCallsSchema.omit({ limit: true, before: true }).extend({
  format: z.enum(["csv", "json"]).default("csv"),
});
export type ExportCallsInput = z.infer<typeof exportCallsSchema>;

/** POST /api/devices. The ids' rules are the registry's (topic levels, Tencent's characters). */
export const createDeviceSchema = z.strictObject({ productId: z.string().meta(productIdDoc), deviceName: z.string().meta(deviceNameDoc) });
/** PATCH /api/devices/{productId}/{deviceName} */
export const updateDeviceSchema = z.strictObject({ disabled: z.boolean() });
export const deviceParams = z.object({ productId: z.string().min(1), deviceName: z.string().min(1) });
/** GET and PUT /api/products/{productId} */
export const productParams = z.object({ productId: z.string().meta(productIdDoc) }).superRefine((p, ctx) => {
  const bad = checkProductId(p.productId);
  if (bad) ctx.addIssue({ code: "custom", path: ["productId"], message: bad.message });
});
/** PUT /api/products/{productId}: the product's request-size limit; null clears it. At most RRPC_MAX_PAYLOAD (the hub checks). */
export const productSettingsSchema = z.strictObject({
  maxRequestBytes: z.number().int().min(1).nullable().meta({ description: "bytes, from 1 to RRPC_MAX_PAYLOAD; null: only RRPC_MAX_PAYLOAD applies" }),
});
export type ProductSettingsInput = z.infer<typeof productSettingsSchema>;
/** GET /api/calls/{processId} */
export const callParams = z.object({ processId: processIdParam });
/** DELETE /api/keys/{secretId} */
export const keyParams = z.object({ secretId: z.string().min(1).max(200) });
/** POST /api/keys */
export const createKeySchema = z.strictObject({
  name: z.string().trim().max(100).optional(),
  role: z.enum(ROLES).optional().describe("what the key may do; operator by default"),
});
/** /api/users/:name */
export const userParams = z.object({
  name: z.string().regex(/^[A-Za-z0-9_@+-]{1,64}$/, "a user name is 1-64 letters, digits, '_', '@', '+' or '-'"),
});
/** POST /api/users */
export const createUserSchema = z.strictObject({
  name: userParams.shape.name,
  role: z.enum(ROLES),
  password: z.string().min(12, "the password must be at least 12 characters").max(1000),
});
/** PATCH /api/users/:name: any of a role, disabled, a new password. */
export const updateUserSchema = z.strictObject({
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional(),
  password: z.string().min(12, "the password must be at least 12 characters").max(1000).optional(),
});
/** POST /api/session */
export const signInSchema = z.strictObject({ user: z.string().min(1).max(200), password: z.string().min(1).max(1000) });

export { MAX_STATS_BUCKETS, DEFAULT_STATS_RANGE_MS, defaultBucketSeconds };

const statsRangeFields = {
  productId: z.string().min(1).optional(),
  deviceName: z.string().min(1).optional(),
  /** Calls that started in [from, to): ISO 8601 or epoch milliseconds. */
  from: timeParam.optional(),
  to: timeParam.optional(),
};

type RangeIn = { from?: number; to?: number };

/** `to` defaults to now, `from` to an hour before `to`; `to` must be after `from`. */
function resolveRange(q: RangeIn, now: number, ctx: z.RefinementCtx): { from: number; to: number } | null {
  const to = q.to ?? now;
  const from = q.from ?? to - DEFAULT_STATS_RANGE_MS;
  if (to <= from) {
    ctx.addIssue({ code: "custom", path: [q.to === undefined ? "from" : "to"], message: "the range must end after it starts (from < to)" });
    return null;
  }
  return { from, to };
}

/** GET /api/stats query string, its defaults taken against `now` (epoch ms). */
export function statsQuerySchema(now: number) {
  return z
    .object({
      ...statsRangeFields,
      bucket: z.coerce
        .number()
        .int()
        .min(1)
        .max(366 * 86400)
        .optional(),
    })
    .transform(({ bucket, ...q }, ctx) => {
      const range = resolveRange(q, now, ctx);
      if (!range) return z.NEVER;
      const seconds = bucket ?? defaultBucketSeconds(range.to - range.from);
      const count = Math.ceil((range.to - range.from) / (seconds * 1000));
      if (count > MAX_STATS_BUCKETS) {
        const least = Math.ceil((range.to - range.from) / 1000 / MAX_STATS_BUCKETS);
        ctx.addIssue({
          code: "custom",
          path: ["bucket"],
          message: `${count} buckets of ${seconds} s; at most ${MAX_STATS_BUCKETS}: use a bucket of at least ${least} s or a shorter range`,
        });
        return z.NEVER;
      }
      return { productId: q.productId, deviceName: q.deviceName, ...range, bucketMs: seconds * 1000 };
    });
}
export type StatsQuery = z.infer<ReturnType<typeof statsQuerySchema>>;

/** GET /api/stats/devices query string, its defaults taken against `now` (epoch ms). */
export function deviceStatsQuerySchema(now: number) {
  return z
    .object({ from: statsRangeFields.from, to: statsRangeFields.to, limit: z.coerce.number().int().min(1).max(100).default(10) })
    .transform(({ limit, ...q }, ctx) => {
      const range = resolveRange(q, now, ctx);
      return range ? { ...range, limit } : z.NEVER;
    });
}
export type DeviceStatsQuery = z.infer<ReturnType<typeof deviceStatsQuerySchema>>;
