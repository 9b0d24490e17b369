import "server-only";
import { isBase64 } from "../rrpc/payload";
import type { CreateCallInput, ListCallsInput } from "../rrpc/schemas";
import { callToJson, type CallSource } from "./call";
import { ApiError, OUTCOME_ERRORS } from "./errors";
import { errorResponse } from "./http";
import { getRuntime } from "./runtime";

export { getRuntime };

/** Room for the JSON envelope and base64 growth (4/3) around the largest payload. */
export async function maxBodyBytes(): Promise<number> {
  const rt = await getRuntime();
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
export async function createCall(input: CreateCallInput, source: CallSource = "api"): Promise<Response> {
  const rt = await getRuntime();
  const call = await rt.hub.call({
    productId: input.productId,
    deviceName: input.deviceName,
    payload: decodePayload(input.payload, input.encoding),
    timeoutMs: input.timeoutMs,
    source,
  });
  const json = callToJson(call);
  if (call.status === "success") return Response.json(json);
  const outcome = OUTCOME_ERRORS[call.status as keyof typeof OUTCOME_ERRORS];
  return errorResponse(new ApiError(outcome.code, outcome.message), json);
}

export async function listCalls(q: ListCallsInput) {
  const rt = await getRuntime();
  const calls = rt.store.list(q);
  const last = calls.at(-1);
  return { calls: calls.map(callToJson), nextBefore: calls.length === q.limit && last ? last.processId : null };
}

export async function getCall(messageId: number) {
  const rt = await getRuntime();
  const call = rt.store.get(messageId);
  if (!call) throw new ApiError("not_found", `no call with processId ${messageId}`);
  return callToJson(call);
}

export async function health() {
  const rt = await getRuntime();
  return {
    ok: rt.hub.isReady,
    broker: rt.broker ? "embedded" : "external",
    brokerConnected: rt.hub.isReady,
    inFlight: rt.hub.inFlight,
    mqtt: rt.broker ? { tcpPort: rt.broker.tcpPort, wsPort: rt.broker.wsPort, wsPath: "/mqtt" } : null,
    simulator: rt.simulator ? { productId: "AIRCOND001", deviceName: "airConditioner1" } : null,
  };
}
