import { parseProcessId } from "./process-id";

/**
 * RRPC topics (docs/protocol.md, "Topics"):
 *   request  $rrpc/rxd/{productId}/{deviceName}/{processId}  (server → device)
 *   reply    $rrpc/txd/{productId}/{deviceName}/{processId}  (device → server)
 */
export const RRPC_PREFIX = "$rrpc";
export const REQUEST_DIR = "rxd";
export const REPLY_DIR = "txd";
/** Every reply on the broker: what the hub subscribes to. */
export const ALL_REPLIES_FILTER = "$rrpc/txd/+/+/+";

export const PRODUCT_ID_MAX = 10;
export const DEVICE_NAME_MAX = 48;

/** Tencent: product IDs are 10 upper-case letters and digits; we allow 1..10. */
export const PRODUCT_ID_RE = /^[A-Z0-9]{1,10}$/;
/** Tencent CreateDevice (2021-04-08): 1..48 letters, digits, ':', '_' and '-'. */
export const DEVICE_NAME_RE = /^[A-Za-z0-9:_-]{1,48}$/;
// MQTT 3.1.1 §4.7: '/' separates levels, '+' and '#' are wildcards, NUL is forbidden (§1.5.3).
const TOPIC_SPECIAL_RE = /[/+#\u0000]/;

export type FieldError = { field: string; message: string };

function checkLevel(field: string, value: unknown, max: number, re: RegExp, rule: string): FieldError | null {
  if (typeof value !== "string") return { field, message: `${field} must be a string` };
  if (value.length === 0) return { field, message: `${field} must not be empty (it is an MQTT topic level)` };
  if (TOPIC_SPECIAL_RE.test(value)) {
    return { field, message: `${field} must not contain '/', '+', '#' or NUL (it is an MQTT topic level)` };
  }
  if (value.length > max) return { field, message: `${field} is longer than ${max} characters` };
  if (!re.test(value)) return { field, message: `${field} must be ${rule}` };
  return null;
}

export function checkProductId(value: unknown): FieldError | null {
  return checkLevel("productId", value, PRODUCT_ID_MAX, PRODUCT_ID_RE, "1 to 10 upper-case letters or digits");
}

export function checkDeviceName(value: unknown): FieldError | null {
  return checkLevel("deviceName", value, DEVICE_NAME_MAX, DEVICE_NAME_RE, "1 to 48 letters, digits, ':', '_' or '-'");
}

export function checkProcessId(value: unknown): FieldError | null {
  if (typeof value === "string" && parseProcessId(value) !== null) return null;
  return { field: "processId", message: "processId must be a decimal integer of at most 16 digits" };
}

/** Both ids of a device, checked as topic levels: every problem, one per field. */
export function checkDevice(productId: unknown, deviceName: unknown): FieldError[] {
  return [checkProductId(productId), checkDeviceName(deviceName)].filter((f): f is FieldError => f !== null);
}

export function requestTopic(productId: string, deviceName: string, processId: string): string {
  return `${RRPC_PREFIX}/${REQUEST_DIR}/${productId}/${deviceName}/${processId}`;
}

export function replyTopic(productId: string, deviceName: string, processId: string): string {
  return `${RRPC_PREFIX}/${REPLY_DIR}/${productId}/${deviceName}/${processId}`;
}

/** The filter a device subscribes to for its requests. */
export function deviceRequestFilter(productId: string, deviceName: string): string {
  return `${RRPC_PREFIX}/${REQUEST_DIR}/${productId}/${deviceName}/+`;
}

/** Tencent's convention: a device's MQTT client id is productId followed by deviceName. */
export function deviceClientId(productId: string, deviceName: string): string {
  return productId + deviceName;
}

export type RrpcTopic = {
  direction: "request" | "reply";
  productId: string;
  deviceName: string;
  processId: string;
};

/** Parses an RRPC request or reply topic; null for anything else (including bad levels). */
export function parseRrpcTopic(topic: string): RrpcTopic | null {
  const parts = topic.split("/");
  if (parts.length !== 5 || parts[0] !== RRPC_PREFIX) return null;
  const [, dir, productId, deviceName, processId] = parts as [string, string, string, string, string];
  const direction = dir === REQUEST_DIR ? "request" : dir === REPLY_DIR ? "reply" : null;
  if (!direction || !productId || !deviceName || parseProcessId(processId) === null) return null;
  return { direction, productId, deviceName, processId };
}
