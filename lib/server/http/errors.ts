import { z } from "zod";
import type { ApiErrorBody } from "../../rrpc/api";
import type { FieldError } from "../../rrpc/topics";
import { replyOverLimit, type CallJson, type TerminalStatus } from "../../rrpc/types";
import { DomainError, type DomainReason } from "../core/errors";
import { log } from "../core/log";
import { json, type HttpResponse } from "./types";

/** Every error code of the native API, with its HTTP status: one table, one shape. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  device_not_found: 404,
  command_not_found: 404,
  batch_not_found: 404,
  method_not_allowed: 405,
  device_offline: 409,
  device_not_subscribed: 409,
  device_disabled: 409,
  conflict: 409,
  payload_too_large: 413,
  too_many_targets: 413,
  misdirected_request: 421,
  unsupported_media_type: 415,
  busy: 429,
  rate_limited: 429,
  internal_error: 500,
  reply_too_large: 502,
  broker_unavailable: 503,
  interrupted: 503,
  store_unavailable: 503,
  timeout: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/** How the native API reports each domain refusal. Exhaustive: a new reason fails the typecheck here. */
const REASON_CODES: Record<DomainReason, ErrorCode> = {
  invalid_input: "invalid_request",
  payload_too_large: "payload_too_large",
  device_not_found: "device_not_found",
  device_disabled: "device_disabled",
  device_exists: "conflict",
  call_not_found: "not_found",
  key_not_found: "not_found",
  sign_in_disabled: "invalid_request",
  bad_credentials: "unauthorized",
  unauthenticated: "unauthorized",
  throttled: "rate_limited",
  store_unavailable: "store_unavailable",
  command_not_found: "command_not_found",
  command_exists: "conflict",
  batch_not_found: "batch_not_found",
  batch_conflict: "conflict",
  too_many_targets: "too_many_targets",
  forbidden: "forbidden",
  user_exists: "conflict",
  user_not_found: "not_found",
  user_conflict: "conflict",
};

/** How a call that did not succeed is reported. Exhaustive over the terminal statuses. */
export const OUTCOME_ERRORS: Record<Exclude<TerminalStatus, "success">, { code: ErrorCode; message: string }> = {
  timeout: { code: "timeout", message: "the device did not reply before the timeout" },
  reply_too_large: { code: "reply_too_large", message: "the device's reply is larger than RRPC_MAX_REPLY; it was not kept" },
  offline: { code: "device_offline", message: "the device is not connected" },
  not_subscribed: { code: "device_not_subscribed", message: "the device is connected but not subscribed to its RRPC request topic" },
  broker_unavailable: { code: "broker_unavailable", message: "the hub is not connected to the MQTT broker" },
  busy: { code: "busy", message: "too many calls in flight; retry later" },
  interrupted: { code: "interrupted", message: "the hub stopped while the call was in flight" },
};

/** A refusal of the HTTP layer itself: media type, malformed body, no such route. */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function errorResponse(
  code: ErrorCode,
  message: string,
  fields?: FieldError[],
  call?: CallJson,
  headers?: Record<string, string>,
): HttpResponse {
  const body: ApiErrorBody = { error: { code, message } };
  if (fields?.length) body.error.fields = fields;
  if (call) body.call = call;
  return json(ERROR_STATUS[code], body, headers);
}

export function fromZod(err: z.ZodError, where = ""): HttpError {
  const fields = err.issues.map((i) => ({
    field: [where, ...i.path.map(String)].filter(Boolean).join(".") || "(body)",
    message: i.message,
  }));
  return new HttpError("invalid_request", fields.map((f) => `${f.field}: ${f.message}`).join("; "), fields);
}

/** The one error path: known errors keep their code, anything else is a 500 that is logged. */
export function responseForError(err: unknown): HttpResponse {
  if (err instanceof DomainError) {
    const retry = err.retryAfterMs === undefined ? undefined : { "retry-after": String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))) };
    return errorResponse(REASON_CODES[err.reason], err.message, err.fields, undefined, retry);
  }
  if (err instanceof HttpError) return errorResponse(err.code, err.message, err.fields, undefined, err.headers);
  if (err instanceof z.ZodError) return responseForError(fromZod(err));
  log.error("unhandled error in an API handler", { error: (err as Error)?.stack ?? String(err) });
  return errorResponse("internal_error", "internal error");
}

/** The answer to a call that ended: 200 with the call, or its outcome's error with the call attached. */
export function callResponse(call: CallJson): HttpResponse {
  if (call.status === "success") return json(200, call);
  if (call.status === "pending") throw new Error(`call ${call.processId} came back still pending`);
  const outcome = OUTCOME_ERRORS[call.status];
  const over = replyOverLimit(call);
  const message = over
    ? `the device's reply is ${over.bytes} bytes, over the limit of ${over.limit} (RRPC_MAX_REPLY); it was not kept`
    : outcome.message;
  return errorResponse(outcome.code, message, undefined, call);
}
