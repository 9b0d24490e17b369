/**
 * GET /api/openapi.json: the native API as an OpenAPI 3.1 document, made from the routing table
 * (routes.ts), the zod schemas the handlers validate requests with (lib/rrpc/schemas.ts), the
 * zod schemas of the answers (lib/rrpc/api-schemas.ts) and the error table (errors.ts), with
 * zod's own JSON Schema conversion. What is written by hand is only what no schema says: each
 * operation's summary, which answers it gives, and the error codes particular to it (API_DOCS).
 *
 * A new route needs an API_DOCS entry under the same "METHOD path" as its ROUTES entry
 * (openapi.test.ts fails naming any route without one, or any entry without a route).
 */
import { z } from "zod";
import {
  API_COMPONENTS,
  apiKeyInfoSchema,
  apiKeyListSchema,
  callCountSchema,
  callSchema,
  callsPageSchema,
  deviceConnectInfoSchema,
  batchListSchema,
  batchSchema,
  batchTargetSchema,
  batchTargetsPageSchema,
  callStatsSchema,
  commandListSchema,
  commandSchemaOut,
  devicePresenceSchema,
  deviceStatsRankingSchema,
  deviceInfoSchema,
  deviceListSchema,
  errorBodyFor,
  healthSchema,
  limitsSchema,
  liveConfigSchema,
  brokerAuthnAnswerSchema,
  brokerAuthzAnswerSchema,
  newApiKeySchema,
  newDeviceSchema,
  productInfoSchema,
  productListSchema,
  sessionInfoSchema,
  userInfoSchema,
  userListSchema,
} from "../../rrpc/api-schemas";
import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter, OpenApiResponse } from "../../rrpc/openapi-document";
import {
  batchIdParam,
  commandCallSchema,
  commandIdParam,
  commandSchema,
  createBatchQuery,
  createBatchSchema,
  deviceStatsQuerySchema,
  exportTargetsSchema,
  listTargetsSchema,
  retryBatchSchema,
  statsQuerySchema,
  callParams,
  countCallsSchema,
  createCallSchema,
  createDeviceSchema,
  createKeySchema,
  deviceParams,
  exportCallsSchema,
  keyParams,
  createUserSchema,
  updateUserSchema,
  userParams,
  listCallsSchema,
  signInSchema,
  updateDeviceSchema,
  productParams,
  productSettingsSchema,
} from "../../rrpc/schemas";
import { ERROR_STATUS, type ErrorCode } from "./errors";
import { authnSchema, authzSchema } from "../auth/broker-hooks";
import type { Route } from "./router";
import pkg from "../../../package.json";

/** A non-error answer: JSON described by `schema`, other media types by `content`, or no body. */
export type ResponseDoc = {
  description: string;
  schema?: z.ZodType;
  content?: Record<string, z.ZodType>;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
};

export type OperationDoc = {
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** The path's `:name` parameters, as the handler parses them. */
  params?: z.ZodObject;
  /** The query string, as the handler parses it (errors add invalid_request). */
  query?: z.ZodObject;
  /** The JSON body, as the handler parses it (errors add invalid_request, unsupported_media_type, payload_too_large). */
  body?: z.ZodType;
  /** A JSON body the handler never refuses (anything unreadable is an answer, not an error): the broker hooks. */
  lenientBody?: z.ZodType;
  /** Every answer that is not an error of the table in errors.ts, by status. */
  responses: Record<number, ResponseDoc>;
  /**
   * Error codes particular to this operation. Those every operation of its kind can answer are
   * added: see commonErrors().
   */
  errors?: readonly ErrorCode[];
};

const TAGS = {
  Calls: "Calling devices and the calls' history",
  Devices: "The device registry",
  Keys: "API keys (SecretId/SecretKey)",
  Session: "Sign-in",
  Users: "Team accounts and their roles",
  Hub: "The hub itself",
  Commands: "Saved commands: payload templates with typed parameters",
  Batches: "One payload or command to many devices",
  Stats: "Calls over time, devices' presence, Prometheus metrics",
  Broker: "Hooks an external broker calls (docs/scale-out.md)",
} as const;
type Tag = keyof typeof TAGS;

/** What each error code means, for the document. Exhaustive: a new code in errors.ts fails the typecheck here. */
export const ERROR_DESCRIPTIONS: Record<ErrorCode, string> = {
  invalid_request: "malformed JSON, a missing or unknown field, a bad id, bad base64, a value out of range (`fields` lists each)",
  unauthorized: "sign-in is on and there is no valid session or API key, a wrong API key, or (sign-in) a wrong user name or password",
  forbidden: "the caller's role is below the one the operation needs (the message names it), or a state-changing request from another `Origin`",
  not_found: "no such call, key or API path",
  device_not_found: "the device is not registered (for a call: nothing is published, no call is made)",
  method_not_allowed: "the path exists for other methods only (the `Allow` header lists them)",
  device_offline: "no client would receive the request and the device's client is not connected",
  device_not_subscribed: "the device is connected but not subscribed to its request topic",
  device_disabled: "the device is disabled",
  conflict: "the device or command name already exists; the batch is still running or has already ended; nothing to retry",
  payload_too_large: "the payload is over RRPC_MAX_PAYLOAD or its product's request-size limit (a call, a batch), or the body is over its limit",
  misdirected_request: "on loopback, a `Host` that is neither a loopback name nor in RRPC_ALLOWED_HOSTS",
  unsupported_media_type: "the body is not application/json",
  busy: "RRPC_MAX_IN_FLIGHT calls already in flight",
  rate_limited: "too many failed sign-ins: wait `Retry-After` seconds",
  internal_error: "an unexpected error (logged)",
  reply_too_large: "the reply is over RRPC_MAX_REPLY bytes: not kept; the message and the terminal event give its size",
  broker_unavailable: "the hub is not connected to the broker (it reconnects by itself)",
  interrupted: "the server stopped while the call was in flight",
  store_unavailable: "the store cannot write (disk full, unwritable file): nothing is published, no id is spent",
  timeout: "no reply within `timeoutMs`",
  command_not_found: "no saved command with this id",
  batch_not_found: "no batch with this id",
  too_many_targets: "a batch has at most 100,000 targets",
};

/** Every call that ends without the device's reply, reported with the call attached. */
const CALL_OUTCOMES = [
  "device_offline",
  "device_not_subscribed",
  "busy",
  "reply_too_large",
  "broker_unavailable",
  "interrupted",
  "timeout",
] as const satisfies readonly ErrorCode[];

const openApiSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) });

/**
 * Every operation of ROUTES except Tencent's (`/` with X-TC-Action: API 3.0, its own envelope,
 * always HTTP 200; docs/protocol.md), keyed "METHOD path" as in ROUTES.
 */
export const API_DOCS: Record<string, OperationDoc> = {
  "GET /api/health": {
    operationId: "health",
    tag: "Hub",
    summary: "Whether the hub can make calls",
    description: "No sign-in needed. 200 when the hub is connected to its broker and its store can write, 503 otherwise; the same body either way.",
    responses: {
      200: { description: "the hub can make calls", schema: healthSchema },
      503: { description: "the broker is not connected or the store cannot write", schema: healthSchema },
    },
  },
  "GET /api/openapi.json": {
    operationId: "openApi",
    tag: "Hub",
    summary: "This document",
    description: "No sign-in needed. The native API as OpenAPI 3.1, generated from the schemas the handlers validate with.",
    responses: { 200: { description: "the OpenAPI 3.1 document", schema: openApiSchema } },
  },
  "POST /api/calls": {
    operationId: "callDevice",
    tag: "Calls",
    summary: "Call a device and wait for the outcome",
    description:
      "Publishes the payload on `$rrpc/rxd/{productId}/{deviceName}/{processId}` and answers when the device replies on the txd topic, or why not. A call that was made but did not succeed answers its error with the call attached.",
    body: z.union([createCallSchema, commandCallSchema]),
    responses: { 200: { description: "the device replied; the body is the call", schema: callSchema } },
    errors: ["device_not_found", "device_disabled", "store_unavailable", "command_not_found", ...CALL_OUTCOMES],
  },
  "GET /api/commands": {
    operationId: "listCommands",
    tag: "Commands",
    summary: "Saved commands, by name",
    responses: { 200: { description: "the commands", schema: commandListSchema } },
  },
  "POST /api/commands": {
    operationId: "createCommand",
    tag: "Commands",
    summary: "Save a command",
    description:
      "`{{name}}` in a UTF-8 payload stands for a parameter's value: numbers and booleans as their JSON text, strings as text (JSON-escaped inside a JSON string literal). A template starting with `{` or `[` must render valid JSON. Run it with POST /api/calls `{ productId, deviceName, commandId, params }` or in a batch.",
    body: commandSchema,
    responses: { 201: { description: "saved", schema: commandSchemaOut } },
    errors: ["conflict"],
  },
  "GET /api/commands/:id": {
    operationId: "getCommand",
    tag: "Commands",
    summary: "One saved command",
    params: commandIdParam,
    responses: { 200: { description: "the command", schema: commandSchemaOut } },
    errors: ["invalid_request", "command_not_found"],
  },
  "PUT /api/commands/:id": {
    operationId: "updateCommand",
    tag: "Commands",
    summary: "Replace a saved command's definition",
    params: commandIdParam,
    body: commandSchema,
    responses: { 200: { description: "the command", schema: commandSchemaOut } },
    errors: ["command_not_found", "conflict"],
  },
  "DELETE /api/commands/:id": {
    operationId: "deleteCommand",
    tag: "Commands",
    summary: "Delete a saved command (calls made with it keep its id)",
    params: commandIdParam,
    responses: { 204: { description: "deleted" } },
    errors: ["invalid_request", "command_not_found"],
  },
  "POST /api/batches": {
    operationId: "startBatch",
    tag: "Batches",
    summary: "Send a payload or a saved command to many devices",
    description:
      "Each target gets exactly one call and ends with exactly one status, counted once. At most `concurrency` calls at a time, and never more than RRPC_MAX_IN_FLIGHT less a tenth left to other callers: a batch never causes `busy`. With `wait=1` the answer comes when the batch ends (200), or after `waitMs` (default 60 s) with the batch still running (202).",
    query: createBatchQuery,
    body: createBatchSchema,
    responses: {
      200: { description: "with wait=1: the batch, ended", schema: batchSchema },
      202: { description: "the batch, running", schema: batchSchema },
    },
    errors: ["command_not_found", "too_many_targets"],
  },
  "GET /api/batches": {
    operationId: "listBatches",
    tag: "Batches",
    summary: "Batches, newest first (the last 100)",
    responses: { 200: { description: "the batches", schema: batchListSchema } },
  },
  "GET /api/batches/:batchId": {
    operationId: "getBatch",
    tag: "Batches",
    summary: "A batch with its counts by status",
    params: batchIdParam,
    responses: { 200: { description: "the batch", schema: batchSchema } },
    errors: ["invalid_request", "batch_not_found"],
  },
  "GET /api/batches/:batchId/targets": {
    operationId: "listBatchTargets",
    tag: "Batches",
    summary: "A batch's targets in order, with their status and call",
    params: batchIdParam,
    query: listTargetsSchema,
    responses: { 200: { description: "a page of targets", schema: batchTargetsPageSchema } },
    errors: ["batch_not_found"],
  },
  "GET /api/batches/:batchId/export": {
    operationId: "exportBatch",
    tag: "Batches",
    summary: "Every target of a batch, as CSV or JSON",
    params: batchIdParam,
    query: exportTargetsSchema,
    responses: {
      200: {
        description: "the targets, as an attachment (CSV columns: index, productId, deviceName, status, processId)",
        content: { "text/csv": z.string(), "application/json": z.array(batchTargetSchema) },
        headers: { "Content-Disposition": { description: "attachment; filename=rrpc-batch-{batchId}.{format}", schema: z.string() } },
      },
    },
    errors: ["batch_not_found"],
  },
  "POST /api/batches/:batchId/cancel": {
    operationId: "cancelBatch",
    tag: "Batches",
    summary: "Stop sending: unsent targets end `cancelled`, calls in flight finish",
    params: batchIdParam,
    responses: { 200: { description: "the batch (still running until its calls in flight end)", schema: batchSchema } },
    errors: ["invalid_request", "batch_not_found", "conflict"],
  },
  "POST /api/batches/:batchId/retry": {
    operationId: "retryBatch",
    tag: "Batches",
    summary: "A new batch over the targets that did not succeed",
    params: batchIdParam,
    body: retryBatchSchema,
    responses: { 202: { description: "the new batch, running", schema: batchSchema } },
    errors: ["batch_not_found", "conflict"],
  },
  "GET /api/stats": {
    operationId: "callStats",
    tag: "Stats",
    summary: "Calls by status and round-trip percentiles over time",
    query: statsQuerySchema(0).in,
    responses: { 200: { description: "every bucket of the range", schema: callStatsSchema } },
  },
  "GET /api/stats/devices": {
    operationId: "deviceStats",
    tag: "Stats",
    summary: "The slowest and the most failing devices over a range",
    query: deviceStatsQuerySchema(0).in,
    responses: { 200: { description: "the rankings", schema: deviceStatsRankingSchema } },
  },
  "GET /api/devices/:productId/:deviceName/presence": {
    operationId: "devicePresence",
    tag: "Stats",
    summary: "A device's online/offline changes since the hub started",
    params: deviceParams,
    responses: { 200: { description: "the changes, newest first", schema: devicePresenceSchema } },
    errors: ["invalid_request"],
  },
  "GET /metrics": {
    operationId: "metrics",
    tag: "Stats",
    summary: "Prometheus metrics (text exposition format)",
    description: "With sign-in on: an API key, an operator session, or `Authorization: Bearer <RRPC_METRICS_TOKEN>`.",
    responses: { 200: { description: "the metrics", content: { "text/plain": z.string() } } },
    errors: ["unauthorized"],
  },
  "GET /api/limits": {
    operationId: "limits",
    tag: "Calls",
    summary: "What a call may carry here",
    responses: { 200: { description: "the configured limits", schema: limitsSchema } },
  },
  "GET /api/calls": {
    operationId: "listCalls",
    tag: "Calls",
    summary: "History, newest first",
    description:
      "A page of calls matching the filters. A page ends early, with `nextBefore` set, when its payloads would pass 32 MiB: follow `nextBefore` rather than counting.",
    query: listCallsSchema,
    responses: { 200: { description: "a page of calls", schema: callsPageSchema } },
  },
  "GET /api/calls/count": {
    operationId: "countCalls",
    tag: "Calls",
    summary: "How many calls match the filters",
    query: countCallsSchema,
    responses: { 200: { description: "the number of matching calls", schema: callCountSchema } },
  },
  "GET /api/calls/export": {
    operationId: "exportCalls",
    tag: "Calls",
    summary: "Every call matching the filters, as CSV or JSON",
    description:
      "One row per call: processId, productId, deviceName, status, startedAt, endedAt, rttMs, timeoutMs, requestBase64, requestText, replyBase64, replyText (CSV), or an array of calls (JSON).",
    query: exportCallsSchema,
    responses: {
      200: {
        description: "the calls, as an attachment",
        content: { "text/csv": z.string(), "application/json": z.array(callSchema) },
        headers: { "Content-Disposition": { description: "attachment; filename=rrpc-calls-{time}.{format}", schema: z.string() } },
      },
    },
  },
  "GET /api/calls/:processId": {
    operationId: "getCall",
    tag: "Calls",
    summary: "One call with its trace",
    params: callParams,
    responses: { 200: { description: "the call", schema: callSchema } },
    errors: ["invalid_request", "not_found"],
  },
  "GET /api/devices": {
    operationId: "listDevices",
    tag: "Devices",
    summary: "Registered devices and devices seen in calls, with their stats",
    responses: { 200: { description: "the devices", schema: deviceListSchema } },
  },
  "POST /api/devices": {
    operationId: "registerDevice",
    tag: "Devices",
    summary: "Register a device",
    description: "The answer is the only time the device's secret is shown.",
    body: createDeviceSchema,
    responses: { 201: { description: "registered", schema: newDeviceSchema } },
    errors: ["conflict"],
  },
  "PATCH /api/devices/:productId/:deviceName": {
    operationId: "updateDevice",
    tag: "Devices",
    summary: "Disable or enable a device",
    description: "Disabling also closes the device's open connections on the embedded broker.",
    params: deviceParams,
    body: updateDeviceSchema,
    responses: { 200: { description: "the device", schema: deviceInfoSchema } },
    errors: ["device_not_found"],
  },
  "DELETE /api/devices/:productId/:deviceName": {
    operationId: "deleteDevice",
    tag: "Devices",
    summary: "Delete a device (its history stays)",
    params: deviceParams,
    responses: { 204: { description: "deleted" } },
    errors: ["device_not_found"],
  },
  "POST /api/devices/:productId/:deviceName/secret": {
    operationId: "rotateDeviceSecret",
    tag: "Devices",
    summary: "Give a device a new secret",
    description: "The new secret is shown this once; the old one no longer logs in.",
    params: deviceParams,
    responses: { 200: { description: "the new secret", schema: newDeviceSchema } },
    errors: ["device_not_found"],
  },
  "GET /api/devices/:productId/:deviceName/connect": {
    operationId: "deviceConnectInfo",
    tag: "Devices",
    summary: "How the device connects",
    description: "Client id, a fresh username/password (valid a year) and the C SDK's device_info.json with the secret left out.",
    params: deviceParams,
    responses: { 200: { description: "connection settings", schema: deviceConnectInfoSchema } },
    errors: ["device_not_found"],
  },
  "GET /api/products": {
    operationId: "listProducts",
    tag: "Devices",
    summary: "Products with registered devices or settings, with their settings",
    responses: { 200: { description: "the products, by id", schema: productListSchema } },
  },
  "GET /api/products/:productId": {
    operationId: "getProduct",
    tag: "Devices",
    summary: "A product's settings",
    description: "A product without settings has the defaults: no request-size limit but RRPC_MAX_PAYLOAD.",
    params: productParams,
    responses: { 200: { description: "the product", schema: productInfoSchema } },
    errors: ["invalid_request"],
  },
  "PUT /api/products/:productId": {
    operationId: "updateProduct",
    tag: "Devices",
    summary: "Set or clear a product's request-size limit",
    description:
      "Calls to the product's devices (native API, Tencent's API, commands, batches) with a larger payload are refused `payload_too_large` before anything is published; a batch is refused at its start. For devices with small receive buffers: Tencent's C SDK receives into 2,048 bytes by default. `null` clears the limit.",
    params: productParams,
    body: productSettingsSchema,
    responses: { 200: { description: "the product", schema: productInfoSchema } },
  },
  "GET /api/keys": {
    operationId: "listApiKeys",
    tag: "Keys",
    summary: "API keys (never their SecretKey)",
    responses: { 200: { description: "the keys", schema: apiKeyListSchema } },
  },
  "POST /api/keys": {
    operationId: "createApiKey",
    tag: "Keys",
    summary: "Create an API key",
    description: "The answer is the only time the SecretKey is shown.",
    body: createKeySchema,
    responses: { 201: { description: "created", schema: newApiKeySchema } },
  },
  "DELETE /api/keys/:secretId": {
    operationId: "revokeApiKey",
    tag: "Keys",
    summary: "Revoke an API key",
    params: keyParams,
    responses: { 200: { description: "the revoked key", schema: apiKeyInfoSchema } },
    errors: ["invalid_request", "not_found"],
  },
  "GET /api/users": {
    operationId: "listUsers",
    tag: "Users",
    summary: "Team accounts and their roles (never their passwords)",
    responses: { 200: { description: "the users", schema: userListSchema } },
  },
  "POST /api/users": {
    operationId: "createUser",
    tag: "Users",
    summary: "Add a user with a role and an initial password",
    body: createUserSchema,
    responses: { 201: { description: "created", schema: userInfoSchema } },
    errors: ["conflict"],
  },
  "PATCH /api/users/:name": {
    operationId: "updateUser",
    tag: "Users",
    summary: "Change a user's role, disable or enable them, or set a new password",
    description:
      "A role change applies to the user's next request; disabling a user or a new password ends their sessions. The last enabled admin cannot be demoted or disabled (conflict).",
    params: userParams,
    body: updateUserSchema,
    responses: { 200: { description: "the user", schema: userInfoSchema } },
    errors: ["not_found", "conflict"],
  },
  "DELETE /api/users/:name": {
    operationId: "removeUser",
    tag: "Users",
    summary: "Remove a user and end their sessions",
    description: "The last enabled admin cannot be removed (conflict).",
    params: userParams,
    responses: { 204: { description: "removed" } },
    errors: ["invalid_request", "not_found", "conflict"],
  },
  "GET /api/session": {
    operationId: "session",
    tag: "Session",
    summary: "Whether sign-in is on, and who is signed in",
    responses: { 200: { description: "the session", schema: sessionInfoSchema } },
  },
  "POST /api/session": {
    operationId: "signIn",
    tag: "Session",
    summary: "Sign in as the operator",
    description: "Sets the session cookie (HttpOnly, SameSite=Lax, 12 h). invalid_request when sign-in is not enabled.",
    body: signInSchema,
    responses: {
      200: {
        description: "signed in",
        schema: sessionInfoSchema,
        headers: { "Set-Cookie": { description: "the session cookie", schema: z.string() } },
      },
    },
    errors: ["unauthorized", "rate_limited"],
  },
  "DELETE /api/session": {
    operationId: "signOut",
    tag: "Session",
    summary: "Sign out",
    responses: {
      204: { description: "the session cookie is cleared", headers: { "Set-Cookie": { description: "clears the cookie", schema: z.string() } } },
    },
  },
  "POST /api/broker/authn": {
    operationId: "brokerAuthn",
    tag: "Broker",
    summary: "An external broker asks whether a client may connect (EMQX 5 HTTP authenticator)",
    description:
      "Needs `Authorization: Bearer <RRPC_BROKER_HOOK_SECRET>` (401 without it, which EMQX reads as `ignore`: end its chain with deny). The rules of the embedded broker: devices with Tencent key authentication, the hubs' own login, live views' tokens. A body that cannot be read is a deny, never an error. See docs/scale-out.md.",
    lenientBody: authnSchema,
    responses: { 200: { description: "allow or deny", schema: brokerAuthnAnswerSchema } },
    errors: ["unauthorized", "not_found"],
  },
  "POST /api/broker/authz": {
    operationId: "brokerAuthz",
    tag: "Broker",
    summary: "An external broker asks whether a client may publish or subscribe (EMQX 5 HTTP authorizer)",
    description:
      "Needs `Authorization: Bearer <RRPC_BROKER_HOOK_SECRET>`. Devices stay in their own topics, hubs publish requests and read replies and client events, live views only read; a retained publish on `$rrpc/...` is denied. A body that cannot be read is a deny. See docs/scale-out.md.",
    lenientBody: authzSchema,
    responses: { 200: { description: "allow or deny", schema: brokerAuthzAnswerSchema } },
    errors: ["unauthorized", "not_found"],
  },
  "GET /api/live": {
    operationId: "liveConfig",
    tag: "Hub",
    summary: "The live view's broker address and a 10-minute read-only MQTT credential",
    responses: { 200: { description: "where and how a live view connects", schema: liveConfigSchema } },
  },
};

/** The routes the document describes: all but Tencent's API on `/`. */
export const isNativeRoute = (r: Pick<Route, "path">) => r.path !== "/";

export const routeKey = (r: Pick<Route, "method" | "path">) => `${r.method} ${r.path}`;

/** `/api/calls/:processId` → `/api/calls/{processId}` */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The error codes an operation can answer: its own, and those of every operation of its kind. */
export function errorCodesOf(route: Pick<Route, "method" | "access">, doc: OperationDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(doc.errors);
  if (doc.body) for (const c of ["invalid_request", "unsupported_media_type", "payload_too_large"] as const) codes.add(c);
  if (doc.query) codes.add("invalid_request");
  // Every operation for a role: no credentials (401), or a role below the one needed (403).
  if (route.access !== "public") {
    codes.add("unauthorized");
    codes.add("forbidden");
  }
  // node.ts admission: a state-changing request from another Origin; any request for another Host.
  if (UNSAFE_METHODS.has(route.method)) codes.add("forbidden");
  codes.add("misdirected_request");
  codes.add("internal_error");
  return [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b] || a.localeCompare(b));
}

const DESCRIPTION = `The native HTTP API of rrpc-hub: JSON in, JSON out.

**Sign-in.** While the hub listens on loopback only and no operator password is set, no sign-in is needed. Otherwise every operation but the public ones (health, session, this document) needs an API key as HTTP Basic (\`SecretId:SecretKey\`) or a user's session cookie, of at least the role the operation names (\`x-required-role\`): \`viewer\` reads, \`operator\` also sends calls, runs commands and batches and edits commands, \`admin\` also manages devices, API keys and users. A lower role is answered 403 \`forbidden\` naming the role needed.

**Errors** have one shape, \`{ "error": { "code", "message", "fields"? }, "call"? }\`, with a stable \`code\`; each response lists the codes it can carry, and \`x-error-codes\` lists them all. Any other path under \`/api/\` answers 404 \`not_found\`; a known path with another method answers 405 \`method_not_allowed\` with an \`Allow\` header.

**Tencent Cloud API 3.0** (\`PublishRRPCMessage\` on \`POST /\` or \`GET /?…\` with an \`X-TC-Action\` header, TC3-HMAC-SHA256 signatures, every answer HTTP 200 in Tencent's envelope) is not part of this document: it is Tencent's API, for Tencent's SDKs, described in docs/protocol.md.`;

let cached: { routes: readonly Route[]; doc: OpenApiDocument } | null = null;

/** The document for these routes (made once per routing table). */
export function openApiDocument(routes: readonly Route[]): OpenApiDocument {
  if (cached?.routes !== routes) cached = { routes, doc: buildOpenApiDocument(routes) };
  return cached.doc;
}

/**
 * Builds the document. Routes without an API_DOCS entry are left out (the test names them);
 * every documented route becomes one operation.
 */
export function buildOpenApiDocument(routes: readonly Route[]): OpenApiDocument {
  const out = new SchemaOut();
  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes.filter(isNativeRoute)) {
    const doc = API_DOCS[routeKey(route)];
    if (!doc) continue;
    const responses: Record<string, OpenApiResponse> = {};
    for (const [status, r] of Object.entries(doc.responses)) {
      const response: OpenApiResponse = { description: r.description };
      if (r.headers) response.headers = mapValues(r.headers, (h) => ({ description: h.description, schema: inputSchema(h.schema) }));
      const content = { ...(r.schema ? { "application/json": r.schema } : {}), ...r.content };
      if (Object.keys(content).length > 0) response.content = mapValues(content, (s) => ({ schema: out.ref(s) }));
      responses[status] = response;
    }
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of errorCodesOf(route, doc)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    for (const [status, codes] of byStatus) {
      if (responses[status]) throw new Error(`${routeKey(route)}: status ${status} is both an answer and an error`);
      const describe = (c: ErrorCode) =>
        c === "forbidden" && route.access !== "public"
          ? `needs role \`${route.access}\` (a caller of a lower role is refused, the message names the role), or a state-changing request from another \`Origin\``
          : ERROR_DESCRIPTIONS[c];
      const response: OpenApiResponse = {
        description: codes.map((c) => `\`${c}\`: ${describe(c)}`).join("; "),
        content: { "application/json": { schema: out.ref(errorBodyFor(codes as [ErrorCode, ...ErrorCode[]])) } },
      };
      if (codes.includes("rate_limited") || codes.includes("busy")) {
        response.headers = { "Retry-After": { description: "seconds to wait (rate_limited)", schema: { type: "integer" } } };
      }
      responses[status] = response;
    }
    const op: OpenApiOperation = {
      operationId: doc.operationId,
      summary: doc.summary,
      ...(doc.description || route.access !== "public"
        ? { description: [doc.description, route.access !== "public" ? `Needs role \`${route.access}\`.` : ""].filter(Boolean).join(" ") }
        : {}),
      tags: [doc.tag],
      security: route.access !== "public" ? [{ apiKey: [] }, { session: [] }, {}] : [],
      ...(route.access !== "public" ? { "x-required-role": route.access } : {}),
      responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
    };
    const parameters = [...parametersOf(doc.params, "path"), ...parametersOf(doc.query, "query")];
    if (parameters.length > 0) op.parameters = parameters;
    const body = doc.body ?? doc.lenientBody;
    if (body) op.requestBody = { required: true, content: { "application/json": { schema: inputSchema(body) } } };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = op;
  }
  const { schemas, resolve } = out.emit();
  resolve(paths);

  const usedTags = new Set(Object.values(paths).flatMap((ops) => Object.values(ops).flatMap((o) => o.tags)));
  return {
    openapi: "3.1.0",
    info: { title: "rrpc-hub API", version: pkg.version, description: DESCRIPTION },
    tags: (Object.keys(TAGS) as Tag[]).filter((t) => usedTags.has(t)).map((name) => ({ name, description: TAGS[name] })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: "http", scheme: "basic", description: "an API key: user SecretId, password SecretKey" },
        session: { type: "apiKey", in: "cookie", name: "rrpc_session", description: "an operator session (POST /api/session)" },
      },
    },
    "x-error-codes": (Object.keys(ERROR_STATUS) as ErrorCode[])
      .map((code) => ({ code, status: ERROR_STATUS[code], description: ERROR_DESCRIPTIONS[code] }))
      .sort((a, b) => a.status - b.status || a.code.localeCompare(b.code)),
  };
}

const mapValues = <T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

/** Noise in a document: `.int()` bounds of ±MAX_SAFE_INTEGER, and the pattern zod adds to `format: date-time`. */
function tidy({ jsonSchema }: { jsonSchema: { minimum?: number; maximum?: number; format?: string; pattern?: string } }) {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
}

/** A converted schema without the keywords of a standalone one. */
function strip(schema: JsonSchema): JsonSchema {
  const rest = { ...schema };
  delete rest.$schema;
  delete rest.$id;
  return rest;
}

/** A request's schema as a client writes it (defaults may be left out, values before transforms). */
function inputSchema(schema: z.ZodType): JsonSchema {
  return strip(z.toJSONSchema(schema, { io: "input", override: tidy }) as JsonSchema);
}

function parametersOf(schema: z.ZodObject | undefined, where: "path" | "query"): OpenApiParameter[] {
  if (!schema) return [];
  const json = inputSchema(schema);
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    ...(s.description ? { description: s.description } : {}),
    schema: s,
  }));
}

const COMPONENT_PREFIX = "#/components/schemas/";
const INLINE = "~inline~";

/**
 * Answers' schemas, converted in one pass so that every named schema (API_COMPONENTS) becomes
 * one entry of `components.schemas` referenced wherever it appears. ref() hands out a
 * placeholder; emit() converts and resolve() replaces the placeholders with the schemas.
 */
class SchemaOut {
  private readonly registry = z.registry<{ id?: string }>();
  private readonly inline = new Map<z.ZodType, string>();
  constructor() {
    for (const [id, schema] of API_COMPONENTS) this.registry.add(schema, { id });
  }

  ref(schema: z.ZodType): JsonSchema {
    const named = this.registry.get(schema)?.id;
    if (named) return { $ref: COMPONENT_PREFIX + named };
    let id = this.inline.get(schema);
    if (!id) {
      id = `${INLINE}${this.inline.size}`;
      this.inline.set(schema, id);
      this.registry.add(schema, { id });
    }
    return { $ref: COMPONENT_PREFIX + id };
  }

  emit(): { schemas: Record<string, JsonSchema>; resolve: (paths: OpenApiDocument["paths"]) => void } {
    const all = z.toJSONSchema(this.registry, {
      uri: (id) => COMPONENT_PREFIX + id,
      override: tidy,
    }).schemas as Record<string, JsonSchema>;
    if ("__shared" in all) throw new Error("a schema is shared without a name: name it in API_COMPONENTS");
    const schemas: Record<string, JsonSchema> = {};
    const inline: Record<string, JsonSchema> = {};
    for (const [id, s] of Object.entries(all)) (id.startsWith(INLINE) ? inline : schemas)[id] = strip(s);
    if (JSON.stringify(schemas).includes(INLINE)) throw new Error("a named schema contains an unnamed answer schema");
    const resolve = (paths: OpenApiDocument["paths"]) => {
      for (const ops of Object.values(paths))
        for (const op of Object.values(ops))
          for (const r of Object.values(op.responses))
            for (const media of Object.values(r.content ?? {})) {
              const id = media.schema.$ref?.slice(COMPONENT_PREFIX.length);
              if (id?.startsWith(INLINE)) media.schema = inline[id]!;
            }
    };
    return { schemas, resolve };
  }
}
