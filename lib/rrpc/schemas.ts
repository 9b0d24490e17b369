import { z } from "zod";
import { base64ToBytes, isBase64, utf8Bytes } from "./payload";
import { CALL_STATUSES, type CallStatus } from "./types";

/** A client's correlation token for a call (POST /api/calls `clientRef`). */
export const CLIENT_REF_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

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
