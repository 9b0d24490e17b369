import type { FieldError } from "../../rrpc/topics";
import type { TerminalStatus } from "../../rrpc/types";

/** Every error the API gives, with its HTTP status: one table, one shape. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  device_not_found: 404,
  device_offline: 409,
  device_not_subscribed: 409,
  device_disabled: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  busy: 429,
  internal_error: 500,
  broker_unavailable: 503,
  interrupted: 503,
  timeout: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

// Next.js bundles instrumentation and route handlers separately, so an ApiError thrown by the
// hub (created from instrumentation) is not an instance of the route bundle's class: check a
// process-wide brand instead of `instanceof`.
const BRAND = Symbol.for("rrpc-hub.ApiError");

export class ApiError extends Error {
  readonly [BRAND] = true;
  override readonly name = "ApiError";

  static is(err: unknown): err is ApiError {
    return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
  }

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** How a call that did not succeed is reported to the caller. */
export const OUTCOME_ERRORS: Record<Exclude<TerminalStatus, "success">, { code: ErrorCode; message: string }> = {
  timeout: { code: "timeout", message: "the device did not reply before the timeout" },
  offline: { code: "device_offline", message: "the device is not connected" },
  not_subscribed: { code: "device_not_subscribed", message: "the device is connected but not subscribed to its RRPC request topic" },
  broker_unavailable: { code: "broker_unavailable", message: "the hub is not connected to the MQTT broker" },
  busy: { code: "busy", message: "too many calls in flight; retry later" },
  interrupted: { code: "interrupted", message: "the hub stopped while the call was in flight" },
};
