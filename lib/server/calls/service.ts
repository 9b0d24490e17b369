import { isBase64 } from "../../rrpc/payload";
import type { CreateCallInput } from "../../rrpc/schemas";
import { callToJson, type CallSource } from "../core/call";
import { ApiError, OUTCOME_ERRORS } from "../core/errors";
import { errorReply, type Reply } from "../http/http";
import type { Runtime } from "../runtime/runtime";
import type { TencentDeps } from "../tencent/publish-rrpc";

/** Room for the JSON envelope and base64 growth (4/3) around the largest payload. */
export function maxCallBodyBytes(rt: Runtime): number {
  return Math.ceil(rt.config.maxPayloadBytes * 1.4) + 4096;
}

export function decodePayload(payload: string, encoding: "utf8" | "base64"): Buffer {
  if (encoding === "utf8") return Buffer.from(payload, "utf8");
  if (!isBase64(payload)) {
    throw new ApiError("invalid_request", "payload is not valid base64", [{ field: "payload", message: "not valid base64" }]);
  }
  return Buffer.from(payload, "base64");
}

/** Makes the call and answers with it: 200 on success, the outcome's error code otherwise. */
export async function makeCall(rt: Runtime, input: CreateCallInput, source: CallSource = "api"): Promise<Reply> {
  const call = await rt.hub.call({
    productId: input.productId,
    deviceName: input.deviceName,
    payload: decodePayload(input.payload, input.encoding),
    timeoutMs: input.timeoutMs,
    source,
  });
  const json = callToJson(call);
  if (call.status === "success") return { status: 200, body: json };
  const outcome = OUTCOME_ERRORS[call.status as keyof typeof OUTCOME_ERRORS];
  return errorReply(new ApiError(outcome.code, outcome.message), json);
}

/** Tencent Cloud API 3.0 PublishRRPCMessage, for the official SDKs (always HTTP 200). */
/** What Tencent's API handler needs from the runtime; `signedHost` replaces Host behind a rewrite. */
export function tencentDeps(rt: Runtime, signedHost: string | null): TencentDeps {
  return {
    call: (input) => rt.hub.call(input),
    secretFor: (id) => rt.registry.secretFor(id),
    deviceExists: (p, d) => rt.registry.deviceState(p, d),
    onAuthenticated: (id) => rt.registry.markApiKeyUsed(id),
    signedHost,
  };
}
