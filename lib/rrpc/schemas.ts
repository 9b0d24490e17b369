import { z } from "zod";
import { base64ToBytes, isBase64, utf8Bytes } from "./payload";
import { DEVICE_NAME_RE, PRODUCT_ID_RE } from "./topics";
import { CALL_STATUSES, MAX_TIMEOUT_MS, MIN_TIMEOUT_MS, type CallStatus } from "./types";

// `.meta()` below documents (GET /api/openapi.json) rules that the hub checks itself, with the same values.
const productIdDoc = { pattern: PRODUCT_ID_RE.source, description: "1–10 upper-case letters or digits (an MQTT topic level)" };
const deviceNameDoc = { pattern: DEVICE_NAME_RE.source, description: "1–48 letters, digits, ':', '_' or '-' (an MQTT topic level)" };

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
  productIdPrefix: z.string().min(1).max(64).optional().describe("product ids starting with this, in any case"),
  deviceNamePrefix: z.string().min(1).max(64).optional().describe("device names starting with this, in any case"),
  status: z.enum(CALL_STATUSES as [CallStatus, ...CallStatus[]]).optional(),
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
/** GET /api/calls/{processId} */
export const callParams = z.object({ processId: processIdParam });
/** DELETE /api/keys/{secretId} */
export const keyParams = z.object({ secretId: z.string().min(1).max(200) });
/** POST /api/keys */
export const createKeySchema = z.strictObject({ name: z.string().trim().max(100).optional() });
/** POST /api/session */
export const signInSchema = z.strictObject({ user: z.string().min(1).max(200), password: z.string().min(1).max(1000) });
