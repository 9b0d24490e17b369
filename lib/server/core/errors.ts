import type { FieldError } from "../../rrpc/topics";

/**
 * Why the hub, a registry or the store refused to do something. Domain code knows nothing of
 * HTTP: each API maps every reason through its own exhaustive table (lib/server/http/errors.ts
 * for the native API, lib/server/tencent/publish-rrpc.ts for Tencent's), so a new reason fails
 * the typecheck until both say how to report it.
 */
export type DomainReason =
  | "invalid_input"
  | "payload_too_large"
  | "device_not_found"
  | "device_disabled"
  | "device_exists"
  | "call_not_found"
  | "key_not_found"
  | "sign_in_disabled"
  | "bad_credentials"
  | "unauthenticated"
  | "throttled"
  | "store_unavailable"
  | "command_not_found"
  | "command_exists"
  | "batch_not_found"
  | "batch_conflict"
  | "too_many_targets"
  | "forbidden"
  | "user_exists"
  | "user_not_found"
  | "user_conflict";

export class DomainError extends Error {
  override readonly name = "DomainError";

  constructor(
    readonly reason: DomainReason,
    message: string,
    readonly fields?: FieldError[],
    /** For `throttled`: when trying again makes sense. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** invalid_input with one message per field. */
export function invalidInput(fields: FieldError[]): DomainError {
  return new DomainError("invalid_input", fields.map((f) => f.message).join("; "), fields);
}
