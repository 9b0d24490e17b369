import { isBase64 } from "../../rrpc/payload";
import type { CreateCallInput } from "../../rrpc/schemas";
import type { CallRecord, CallSource } from "../core/call";
import { invalidInput } from "../core/errors";
import type { Hub } from "./hub";

export function decodePayload(payload: string, encoding: "utf8" | "base64"): Buffer {
  if (encoding === "utf8") return Buffer.from(payload, "utf8");
  if (!isBase64(payload)) throw invalidInput([{ field: "payload", message: "payload is not valid base64" }]);
  return Buffer.from(payload, "base64");
}

/** Calls a device and resolves with the call once it has ended (any terminal status). */
export function callDevice(hub: Hub, input: CreateCallInput, source: CallSource): Promise<CallRecord> {
  return hub.call({
    productId: input.productId,
    deviceName: input.deviceName,
    payload: decodePayload(input.payload, input.encoding),
    timeoutMs: input.timeoutMs,
    source,
  });
}
