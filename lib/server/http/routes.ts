import {
  callParams,
  createCallSchema,
  createDeviceSchema,
  createKeySchema,
  deviceParams,
  countCallsSchema,
  exportCallsSchema,
  keyParams,
  listCallsSchema,
  signInSchema,
  updateDeviceSchema,
} from "../../rrpc/schemas";
import { SESSION_TTL_MS, sessionCookie } from "../auth/callers";
import { sessionInfo } from "../auth/operator";
import { callToJson } from "../core/call";
import { exportCalls, getCall, listCalls } from "../calls/history";
import { deviceConnectInfo } from "../devices/connect";
import { listDevices } from "../devices/summary";
import { liveConfig } from "../live/access";
import { health } from "../runtime/health";
import type { Runtime } from "../runtime/runtime";
import { handleTencent } from "../tencent/publish-rrpc";
import { parse, queryObject, readJson } from "./body";
import { callResponse } from "./errors";
import { openApiDocument } from "./openapi";
import type { CallCount, Limits } from "../../rrpc/api";
import { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from "../../rrpc/types";
import { payloadTooLarge } from "../calls/hub";
import type { Route } from "./router";
import { json, jsonStream, noContent, type HttpRequest } from "./types";

/** Room for the JSON envelope and base64 growth (4/3) around the largest payload. */
export const maxCallBodyBytes = (rt: Runtime) => Math.ceil(rt.config.maxPayloadBytes * 1.4) + 4096;

const deviceOf = (params: Record<string, string>) => parse(deviceParams, params);

/**
 * Every operation of the HTTP API, each implemented once: what `npm start` and `npm run dev`
 * serve, and what the tests call through the production server. Handlers are thin: parse, call
 * the domain, answer; errors take the one path in errors.ts.
 */
export const ROUTES: readonly Route[] = [
  {
    method: "GET",
    path: "/api/health",
    access: "public",
    handle: (_req, { rt }) => {
      const h = health(rt);
      return json(h.ok ? 200 : 503, h);
    },
  },
  {
    method: "GET",
    path: "/api/openapi.json",
    access: "public",
    handle: () => json(200, openApiDocument(ROUTES)),
  },
  {
    method: "POST",
    path: "/api/calls",
    access: "caller",
    handle: async (req, { rt }) => {
      // A body over its limit is a payload over RRPC_MAX_PAYLOAD: said so, not as a body size the caller never set.
      const body = await readJson(req, maxCallBodyBytes(rt), () => payloadTooLarge(rt.config.maxPayloadBytes));
      const input = parse(createCallSchema, body);
      return callResponse(callToJson(await rt.hub.call({ ...input, source: "api" })));
    },
  },
  {
    method: "GET",
    path: "/api/limits",
    access: "caller",
    handle: (_req, { rt }) =>
      json(200, {
        maxPayloadBytes: rt.config.maxPayloadBytes,
        maxReplyBytes: rt.config.maxReplyBytes,
        minTimeoutMs: MIN_TIMEOUT_MS,
        maxTimeoutMs: MAX_TIMEOUT_MS,
        defaultTimeoutMs: rt.config.defaultTimeoutMs,
      } satisfies Limits),
  },
  {
    method: "GET",
    path: "/api/calls",
    access: "caller",
    handle: (req, { rt }) => jsonStream(200, listCalls(rt.store, parse(listCallsSchema, queryObject(req), "query"))),
  },
  {
    method: "GET",
    path: "/api/calls/count",
    access: "caller",
    handle: (req, { rt }) => json(200, { total: rt.store.count(parse(countCallsSchema, queryObject(req), "query")) } satisfies CallCount),
  },
  {
    method: "GET",
    path: "/api/calls/export",
    access: "caller",
    handle: (req, { rt }) => {
      const q = parse(exportCallsSchema, queryObject(req), "query");
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      return {
        status: 200,
        headers: {
          "content-type": q.format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
          "content-disposition": `attachment; filename="rrpc-calls-${stamp}.${q.format}"`,
          "cache-control": "no-store",
        },
        body: exportCalls(rt.store, q),
      };
    },
  },
  {
    method: "GET",
    path: "/api/calls/:processId",
    access: "caller",
    handle: (_req, { rt, params }) => json(200, getCall(rt.store, parse(callParams, params).processId)),
  },
  {
    method: "GET",
    path: "/api/devices",
    access: "caller",
    handle: (_req, { rt }) => json(200, listDevices(rt.devices, rt.store, rt.broker?.onlineDevices() ?? null)),
  },
  {
    method: "POST",
    path: "/api/devices",
    access: "caller",
    handle: async (req, { rt }) => {
      const { productId, deviceName } = parse(createDeviceSchema, await readJson(req));
      return json(201, rt.devices.createDevice(productId, deviceName));
    },
  },
  {
    method: "PATCH",
    path: "/api/devices/:productId/:deviceName",
    access: "caller",
    handle: async (req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      const { disabled } = parse(updateDeviceSchema, await readJson(req));
      return json(200, rt.devices.setDisabled(productId, deviceName, disabled));
    },
  },
  {
    method: "DELETE",
    path: "/api/devices/:productId/:deviceName",
    access: "caller",
    handle: (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      rt.devices.deleteDevice(productId, deviceName);
      return noContent();
    },
  },
  {
    method: "POST",
    path: "/api/devices/:productId/:deviceName/secret",
    access: "caller",
    handle: (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      return json(200, rt.devices.rotateSecret(productId, deviceName));
    },
  },
  {
    method: "GET",
    path: "/api/devices/:productId/:deviceName/connect",
    access: "caller",
    handle: (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      const mqtt = rt.broker ? { host: rt.config.mqttHost, port: rt.broker.tcpPort } : null;
      return json(200, deviceConnectInfo(rt.devices, productId, deviceName, mqtt));
    },
  },
  {
    method: "GET",
    path: "/api/keys",
    access: "caller",
    handle: (_req, { rt }) => json(200, { keys: rt.keys.listApiKeys() }),
  },
  {
    method: "POST",
    path: "/api/keys",
    access: "caller",
    handle: async (req, { rt }) => {
      const { name } = parse(createKeySchema, await readJson(req));
      return json(201, rt.keys.createApiKey(name));
    },
  },
  {
    method: "DELETE",
    path: "/api/keys/:secretId",
    access: "caller",
    handle: (_req, { rt, params }) => json(200, rt.keys.revokeApiKey(parse(keyParams, params).secretId)),
  },
  {
    method: "GET",
    path: "/api/session",
    access: "public",
    handle: (req, { rt }) => json(200, sessionInfo(rt.callerAuth, req.header("cookie"))),
  },
  {
    method: "POST",
    path: "/api/session",
    access: "public",
    handle: async (req, { rt }) => {
      const { user, password } = parse(signInSchema, await readJson(req));
      const session = await rt.operatorSignIn.signIn(user, password, req.remoteAddress);
      return json(200, { required: true, user: session.user }, { "set-cookie": sessionCookie(session.token, SESSION_TTL_MS, req.secure) });
    },
  },
  {
    method: "DELETE",
    path: "/api/session",
    access: "public",
    handle: (req) => noContent({ "set-cookie": sessionCookie("", 0, req.secure) }),
  },
  {
    method: "GET",
    path: "/api/live",
    access: "caller",
    handle: (_req, { rt }) =>
      json(200, liveConfig({ liveTokens: rt.liveTokens, wsPort: rt.broker?.wsPort ?? null, publicUrl: rt.config.mqttWsPublicUrl })),
  },
  ...(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const).map((method): Route => ({
    // Tencent Cloud API 3.0: `POST /` or `GET /?…` with X-TC-Action (docs/protocol.md,
    // "Tencent API: PublishRRPCMessage"). The signature is the authentication; any other
    // method is answered in Tencent's envelope too.
    method,
    path: "/",
    access: "public",
    when: isTencentRequest,
    handle: async (req, { rt }) =>
      handleTencent(req, {
        call: (input) => rt.hub.call(input),
        secretFor: (id) => rt.keys.secretFor(id),
        onAuthenticated: (id) => rt.keys.markApiKeyUsed(id),
      }),
  })),
];

export function isTencentRequest(req: HttpRequest): boolean {
  return req.header("x-tc-action") !== null;
}
