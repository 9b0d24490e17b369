import { randomUUID } from "node:crypto";
import { checkDeviceName, checkProductId } from "../../rrpc/topics";
import { replyOverLimit, type CallCaller, type TerminalStatus } from "../../rrpc/types";
import type { CallRecord } from "../core/call";
import { DomainError, type DomainReason } from "../core/errors";
import { log } from "../core/log";
import { checkTc3Headers, parseTc3Authorization, verifyTc3Signature, type Tc3ErrorCode } from "./tc3";

/**
 * Tencent Cloud IoT Hub's PublishRRPCMessage (API 3.0, service iotcloud) as a framework-free
 * handler, so that programs written against the official SDKs can point at this hub
 * (docs/protocol.md, "Tencent API: PublishRRPCMessage").
 */
export const TENCENT_ACTION = "PublishRRPCMessage";
/** docs/protocol.md, "Tencent API: PublishRRPCMessage": both versions have the same fields. */
export const TENCENT_VERSIONS = ["2021-04-08", "2018-06-14"] as const;
/** Tencent's own limit on a request body. */
export const TENCENT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type TencentErrorCode =
  | Tc3ErrorCode
  | "FailedOperation.DeviceOffline"
  | "FailedOperation.RRPCTimeout"
  | "FailedOperation.RRPCReplyOverLimit"
  | "FailedOperation.DeviceNoSubscription"
  | "FailedOperation.DeviceAlreadyDisabled"
  | "ResourceNotFound.DeviceNotExist"
  | "InvalidParameterValue.PayloadOverLimit"
  | "InvalidParameterValue"
  | "UnknownParameter"
  | "InvalidAction"
  | "NoSuchVersion"
  | "UnsupportedProtocol"
  | "RequestSizeLimitExceeded"
  | "RequestLimitExceeded"
  | "UnauthorizedOperation"
  | "InternalError";

export type TencentCallInput = { productId: string; deviceName: string; payload: Buffer; source: "tencent"; caller: CallCaller };

export type TencentDeps = {
  /** Makes the call and resolves with it once it has ended (Hub.call accepts this input as is). */
  call: (input: TencentCallInput) => Promise<CallRecord>;
  /** The SecretKey of an active SecretId; null when unknown or revoked. */
  secretFor: (secretId: string) => Promise<string | null>;
  /** A key's name, for the call's record of who made it. */
  keyName?: (secretId: string) => Promise<string | null>;
  /** Unix seconds; defaults to the wall clock. */
  now?: () => number;
  /** Told the SecretId of each request whose signature verified (e.g. to record last use). */
  onAuthenticated?: (secretId: string) => Promise<void>;
  maxBodyBytes?: number;
};

type Failure = { code: TencentErrorCode; message: string };

/** Every way a call can end other than success: exhaustive over TERMINAL_STATUSES. */
export const STATUS_ERRORS: Record<Exclude<TerminalStatus, "success">, Failure> = {
  timeout: { code: "FailedOperation.RRPCTimeout", message: "the device did not reply in time" },
  // The hub's own code: Tencent's API documents none for this case (docs/protocol.md, "Error codes").
  reply_too_large: { code: "FailedOperation.RRPCReplyOverLimit", message: "the device's reply is larger than the hub accepts" },
  offline: { code: "FailedOperation.DeviceOffline", message: "the device is offline" },
  not_subscribed: {
    code: "FailedOperation.DeviceNoSubscription",
    message: "the device is online but not subscribed to its RRPC topic $rrpc/rxd/{productId}/{deviceName}/+",
  },
  busy: { code: "RequestLimitExceeded", message: "too many calls in flight; retry later" },
  broker_unavailable: { code: "InternalError", message: "the hub is not connected to its MQTT broker" },
  interrupted: { code: "InternalError", message: "the hub stopped while the call was in flight" },
};

/** How each domain refusal is reported. Exhaustive: a new reason fails the typecheck here. */
export const REASON_CODES: Record<DomainReason, TencentErrorCode> = {
  invalid_input: "InvalidParameterValue",
  payload_too_large: "InvalidParameterValue.PayloadOverLimit",
  device_not_found: "ResourceNotFound.DeviceNotExist",
  device_disabled: "FailedOperation.DeviceAlreadyDisabled",
  // Not reachable from PublishRRPCMessage; listed so that every reason has a code.
  device_exists: "InvalidParameterValue",
  call_not_found: "InternalError",
  key_not_found: "AuthFailure.SecretIdNotFound",
  sign_in_disabled: "UnauthorizedOperation",
  bad_credentials: "AuthFailure.SignatureFailure",
  unauthenticated: "AuthFailure.SignatureFailure",
  throttled: "RequestLimitExceeded",
  store_unavailable: "InternalError",
  // Not reachable through PublishRRPCMessage; listed because the table is exhaustive.
  command_not_found: "InvalidParameterValue",
  command_exists: "InvalidParameterValue",
  batch_not_found: "InvalidParameterValue",
  batch_conflict: "InvalidParameterValue",
  too_many_targets: "InvalidParameterValue",
  // An API key whose role cannot send calls (a viewer key).
  forbidden: "UnauthorizedOperation",
  user_exists: "InvalidParameterValue",
  user_not_found: "InvalidParameterValue",
  user_conflict: "InvalidParameterValue",
};

const FIELDS = ["ProductId", "DeviceName", "Payload"] as const;
type Params = Record<(typeof FIELDS)[number], string>;

class Refusal extends Error {
  constructor(
    readonly code: TencentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One API 3.0 request, whatever server received it (lib/server/http/types.ts HttpRequest fits). */
export type TencentHttpRequest = {
  method: string;
  /** The request target (path and query); only the query is read. */
  url: string;
  header(name: string): string | null;
  /** The body, or null if it is longer than `max` bytes. */
  body(max: number): Promise<Buffer | null>;
};

export type TencentHttpResponse = { status: 200; headers: Record<string, string>; body: string };

/**
 * Handles one API 3.0 request. Always answers HTTP 200 (docs/protocol.md, "Tencent API: PublishRRPCMessage": the SDK ignores the body
 * of any other status): `{"Response":{"MessageId","PayloadBase64","RequestId"}}` or
 * `{"Response":{"Error":{"Code","Message"},"RequestId"}}`. Plain input and output: the
 * production server answers from node:http, where building a Request with a web stream body
 * and reading a Response back cost more than the call itself.
 */
export async function handleTencent(req: TencentHttpRequest, deps: TencentDeps): Promise<TencentHttpResponse> {
  const requestId = randomUUID();
  const traceId = req.header("x-tc-traceid");
  const respond = (response: Record<string, unknown>): TencentHttpResponse => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    // The SDK reads it back into its exceptions.
    if (traceId) headers["x-tc-traceid"] = traceId;
    return { status: 200, headers, body: JSON.stringify({ Response: { ...response, RequestId: requestId } }) };
  };
  const error = (f: Failure) => respond({ Error: { Code: f.code, Message: f.message } });

  try {
    const method = req.method.toUpperCase();
    if (method !== "GET" && method !== "POST") throw new Refusal("UnsupportedProtocol", "only GET and POST are supported");
    const url = new URL(req.url, "http://localhost");
    const maxBody = deps.maxBodyBytes ?? TENCENT_MAX_BODY_BYTES;
    checkDeclaredSize(req, maxBody);
    const signed = { method, rawQuery: url.search.slice(1) };
    // The headers first: an unauthenticated client never gets the body read. The key is read
    // before the (synchronous) check of the headers.
    const claimed = parseTc3Authorization(req.header("authorization") ?? "")?.secretId;
    const secretKey = claimed === undefined ? null : await deps.secretFor(claimed);
    const checked = checkTc3Headers({
      ...signed,
      headers: (name) => req.header(name),
      now: deps.now ? deps.now() : Date.now() / 1000,
      secretFor: (id) => (id === claimed ? secretKey : null),
    });
    if (!checked.ok) return error(checked);
    const body = await readBody(req, maxBody);
    const auth = verifyTc3Signature({ ...signed, body }, checked.credentials);
    if (!auth.ok) return error(auth);
    try {
      await deps.onAuthenticated?.(auth.secretId);
    } catch (err) {
      // Bookkeeping (last use of a key) must not fail the call.
      log.warn("recording an API key's use failed", { error: err instanceof Error ? err.message : String(err) });
    }

    const action = req.header("x-tc-action");
    if (!action) throw new Refusal("MissingParameter", "the X-TC-Action header is missing");
    if (action !== TENCENT_ACTION) throw new Refusal("InvalidAction", `action ${action} is not supported; only ${TENCENT_ACTION} is`);
    const version = req.header("x-tc-version");
    if (!version) throw new Refusal("MissingParameter", "the X-TC-Version header is missing");
    if (!(TENCENT_VERSIONS as readonly string[]).includes(version)) {
      throw new Refusal("NoSuchVersion", `version ${version} of ${TENCENT_ACTION} does not exist; use ${TENCENT_VERSIONS.join(" or ")}`);
    }

    const params = readParams(method, url, body, req.header("content-type"));
    const bad = checkProductId(params.ProductId) ?? checkDeviceName(params.DeviceName);
    if (bad) throw new Refusal("InvalidParameterValue", bad.message.replace(/^productId/, "ProductId").replace(/^deviceName/, "DeviceName"));

    const call = await deps.call({
      productId: params.ProductId,
      deviceName: params.DeviceName,
      payload: Buffer.from(params.Payload, "utf8"),
      source: "tencent",
      caller: { kind: "tencent_key", id: auth.secretId, name: (await deps.keyName?.(auth.secretId)) ?? auth.secretId },
    });
    if (call.status === "success") {
      return respond({ MessageId: call.messageId, PayloadBase64: Buffer.from(call.reply ?? new Uint8Array()).toString("base64") });
    }
    if (call.status === "pending") throw new Error(`call ${call.processId} came back still pending`);
    const over = replyOverLimit(call);
    if (over)
      return error({ ...STATUS_ERRORS[call.status], message: `the device's reply is ${over.bytes} bytes, over the hub's limit of ${over.limit}` });
    return error(STATUS_ERRORS[call.status]);
  } catch (err) {
    if (err instanceof Refusal) return error(err);
    if (err instanceof DomainError) return error({ code: REASON_CODES[err.reason], message: err.message });
    log.error("tencent api request failed", { requestId, error: err instanceof Error ? err.message : String(err) });
    return error({ code: "InternalError", message: `internal error; RequestId ${requestId}` });
  }
}

const tooLarge = (max: number) => new Refusal("RequestSizeLimitExceeded", `the request body is larger than ${max} bytes`);

/** A body announced over the limit is refused from its headers, before anything else. */
function checkDeclaredSize(req: TencentHttpRequest, max: number): void {
  if (Number(req.header("content-length") ?? "0") > max) throw tooLarge(max);
}

async function readBody(req: TencentHttpRequest, max: number): Promise<Buffer> {
  const body = req.method === "GET" || req.method === "HEAD" ? Buffer.alloc(0) : await req.body(max);
  if (!body) throw tooLarge(max);
  return body;
}

/** POST: the JSON body; GET: the query string (docs/protocol.md, "Tencent API: PublishRRPCMessage"). */
function readParams(method: string, url: URL, body: Buffer, contentType: string | null): Params {
  let raw: Record<string, unknown>;
  if (method === "GET") {
    raw = {};
    for (const [k, v] of url.searchParams) {
      if (k in raw) throw new Refusal("InvalidParameter", `parameter ${k} is given more than once`);
      raw[k] = v;
    }
  } else {
    const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") throw new Refusal("InvalidParameter", "a POST body must be application/json");
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new Refusal("InvalidParameter", "the body is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Refusal("InvalidParameter", "the body must be a JSON object");
    }
    raw = parsed as Record<string, unknown>;
  }
  const unknown = Object.keys(raw).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Refusal("UnknownParameter", `unknown parameter ${unknown.join(", ")}`);
  for (const f of FIELDS) {
    if (raw[f] === undefined || raw[f] === null) throw new Refusal("MissingParameter", `the parameter ${f} is missing`);
    if (typeof raw[f] !== "string") throw new Refusal("InvalidParameter", `${f} must be a string`);
  }
  return raw as Params;
}
