import { z } from "zod";
import { base64ToBytes, isBase64, utf8Bytes } from "./payload";
import { CALL_STATUSES, type CallStatus } from "./types";
import { DEFAULT_STATS_RANGE_MS, MAX_STATS_BUCKETS, defaultBucketSeconds } from "./stats";

/**
 * POST /api/calls; parsing also decodes the payload to its bytes. Topic-level and size rules
 * are the hub's (one place, every entry point).
 */
export const createCallSchema = z
  .strictObject({
    productId: z.string(),
    deviceName: z.string(),
    payload: z.string(),
    encoding: z.enum(["utf8", "base64"]).default("utf8"),
    timeoutMs: z.number().int().optional(),
  })
  .transform(({ payload, encoding, ...rest }, ctx) => {
    if (encoding === "base64" && !isBase64(payload)) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: "not valid base64" });
      return z.NEVER;
    }
    return { ...rest, payload: encoding === "base64" ? base64ToBytes(payload) : utf8Bytes(payload) };
  });
export type CreateCallInput = z.infer<typeof createCallSchema>;

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
  productIdPrefix: z.string().min(1).max(64).optional(),
  deviceNamePrefix: z.string().min(1).max(64).optional(),
  status: z.enum(CALL_STATUSES as [CallStatus, ...CallStatus[]]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: processIdParam.optional(),
  /** Time range on startedAt: ISO 8601 or epoch milliseconds. */
  from: timeParam.optional(),
  to: timeParam.optional(),
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
export const createDeviceSchema = z.strictObject({ productId: z.string(), deviceName: z.string() });
/** PATCH /api/devices/{productId}/{deviceName} */
export const updateDeviceSchema = z.strictObject({ disabled: z.boolean() });
export const deviceParams = z.object({ productId: z.string().min(1), deviceName: z.string().min(1) });
/** POST /api/keys */
export const createKeySchema = z.strictObject({ name: z.string().trim().max(100).optional() });
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
