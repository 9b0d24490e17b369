/**
 * The request that repeats a call, as code to copy from its page: a curl command for the native
 * API and a call of Tencent's Node SDK. Pure functions; no secret is ever written into them
 * (placeholders: $RRPC_SECRET_ID / $RRPC_SECRET_KEY, "YOUR_SECRET_ID" / "YOUR_SECRET_KEY").
 */
import type { CallRequest } from "./api";
import { bytesToBase64, utf8Bytes, type PayloadView } from "./payload";
import type { CallJson } from "./types";

export type RepeatableCall = Pick<CallJson, "productId" | "deviceName" | "request" | "timeoutMs">;

/** The payload as text when sending that text as UTF-8 gives the very same bytes (a leading BOM does not). */
export function exactText(p: PayloadView): string | undefined {
  if (p.payloadText === undefined) return undefined;
  return bytesToBase64(utf8Bytes(p.payloadText)) === p.payloadBase64 ? p.payloadText : undefined;
}

/** The body of POST /api/calls that repeats the call: the payload as text when it is text, else as base64. */
export function callRequestOf(call: RepeatableCall): CallRequest {
  const text = exactText(call.request);
  const { productId, deviceName, timeoutMs } = call;
  return text !== undefined
    ? { productId, deviceName, payload: text, timeoutMs }
    : { productId, deviceName, payload: call.request.payloadBase64, encoding: "base64", timeoutMs };
}

/** One word for sh: single-quoted, a quote written as '\''. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const SECRET_ENV = { id: "RRPC_SECRET_ID", key: "RRPC_SECRET_KEY" } as const;

/**
 * `curl` of POST {origin}/api/calls with the call's device, payload and timeout. With sign-in on
 * (`signIn`) it sends an API key from the environment, as HTTP Basic; without, a comment says how.
 */
export function curlCommand(call: RepeatableCall, opts: { origin: string; signIn: boolean }): string {
  const auth = `-u "$${SECRET_ENV.id}:$${SECRET_ENV.key}"`;
  return [
    opts.signIn
      ? `# Sign-in is on: send an API key of this hub (API keys page): export ${SECRET_ENV.id}=… ${SECRET_ENV.key}=…`
      : `# With sign-in on, also send an API key: ${auth}`,
    `curl -sS -X POST ${shellQuote(`${opts.origin}/api/calls`)} \\`,
    ...(opts.signIn ? [`  ${auth} \\`] : []),
    `  -H 'content-type: application/json' \\`,
    `  --data-raw ${shellQuote(JSON.stringify(callRequestOf(call)))}`,
  ].join("\n");
}

export const SDK_PLACEHOLDERS = { secretId: "YOUR_SECRET_ID", secretKey: "YOUR_SECRET_KEY" } as const;

/**
 * Tencent's Node SDK (tencentcloud-sdk-nodejs, iotcloud 2021-04-08) pointed at this hub, calling
 * PublishRRPCMessage for the same device and payload. Tencent's `Payload` is text, sent as UTF-8
 * (docs/protocol.md, "Payloads"), and the action has no timeout (the hub's default applies): the
 * snippet says so when the call differs.
 */
export function tencentSdkSnippet(call: RepeatableCall, opts: { origin: string; defaultTimeoutMs?: number }): string {
  const url = new URL(opts.origin);
  const text = exactText(call.request);
  const notes: string[] = [];
  if (text === undefined) {
    notes.push(
      "// This call's payload is not UTF-8 text, and Tencent's Payload is text (sent as UTF-8): these bytes",
      "// cannot be sent through PublishRRPCMessage. Below is their base64, as text; repeat the call exactly with the native API (curl).",
    );
  }
  if (opts.defaultTimeoutMs !== undefined && call.timeoutMs !== opts.defaultTimeoutMs) {
    notes.push(`// PublishRRPCMessage has no timeout: the hub waits ${opts.defaultTimeoutMs} ms (this call waited ${call.timeoutMs} ms).`);
  }
  const params = `{ ProductId: ${JSON.stringify(call.productId)}, DeviceName: ${JSON.stringify(call.deviceName)}, Payload: ${JSON.stringify(text ?? call.request.payloadBase64)} }`;
  return [
    "// Tencent's Node SDK (npm install tencentcloud-sdk-nodejs) pointed at this hub; an ES module (.mjs).",
    'import tencentcloud from "tencentcloud-sdk-nodejs";',
    "",
    "const client = new tencentcloud.iotcloud.v20210408.Client({",
    "  // An API key of this hub (API keys page).",
    `  credential: { secretId: ${JSON.stringify(SDK_PLACEHOLDERS.secretId)}, secretKey: ${JSON.stringify(SDK_PLACEHOLDERS.secretKey)} },`,
    '  region: "ap-guangzhou",',
    `  profile: { httpProfile: { endpoint: ${JSON.stringify(url.host)}, protocol: ${JSON.stringify(`${url.protocol}//`)} } },`,
    "});",
    "",
    ...notes,
    `const { MessageId, PayloadBase64 } = await client.PublishRRPCMessage(${params});`,
    'console.log(MessageId, Buffer.from(PayloadBase64, "base64").toString("utf8"));',
  ].join("\n");
}
