import {
  batchIdParam,
  commandCallSchema,
  commandIdParam,
  commandSchema,
  createBatchQuery,
  createBatchSchema,
  exportTargetsSchema,
  listTargetsSchema,
  retryBatchSchema,
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
  statsQuerySchema,
  deviceStatsQuerySchema,
  productParams,
  productSettingsSchema,
  createUserSchema,
  updateUserSchema,
  userParams,
} from "../../rrpc/schemas";
import { SESSION_TTL_MS, callCaller, callerLabel, sessionCookie, type Caller } from "../auth/callers";
import { MAX_BATCH_TARGETS, type BatchTarget } from "../../rrpc/batch";
import { sessionInfo, signOut } from "../auth/operator";
import { roleAllows } from "../auth/roles";
import { hashPasswordAsync } from "../auth/tokens";
import { callToJson, clock } from "../core/call";
import { chunked, exportCalls, getCall, listCalls } from "../calls/history";
import { deviceConnectInfo } from "../devices/connect";
import { listDevices } from "../devices/summary";
import { liveConfig } from "../live/access";
import { health } from "../runtime/health";
import type { Runtime } from "../runtime/runtime";
import { handleTencent } from "../tencent/publish-rrpc";
import { parse, queryObject, readJson } from "./body";
import { callResponse } from "./errors";
import type { BatchList, CallCount, CommandList, DevicePresence, Limits, SessionInfo, UserList } from "../../rrpc/api";
import { DomainError } from "../core/errors";
import { log } from "../core/log";
import { openApiDocument } from "./openapi";
import { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from "../../rrpc/types";
import { payloadTooLarge } from "../calls/hub";
import type { Route } from "./router";
import { attachment, json, jsonStream, noContent, type HttpRequest, type HttpResponse } from "./types";
import { authorizeScrape } from "../metrics/access";
import { authnHook, authzHook, HOOK_BODY_MAX_BYTES, hookSecretMatches } from "../auth/broker-hooks";
import { HttpError } from "./errors";
import { callStats, deviceStatsRanking } from "../store/stats";

/** Room for the JSON envelope and base64 growth (4/3) around the largest payload. */
export const maxCallBodyBytes = (rt: Runtime) => Math.ceil(rt.config.maxPayloadBytes * 1.4) + 4096;

const deviceOf = (params: Record<string, string>) => parse(deviceParams, params);
/** A batch's body: its targets (ids of at most 64 characters each, JSON around them) and a payload. */
const maxBatchBodyBytes = (rt: Runtime) => MAX_BATCH_TARGETS * 200 + maxCallBodyBytes(rt);
/** How long POST /api/batches?wait=1 waits for the end by default. */
const BATCH_WAIT_MS = 60_000;

/** The request that runs a command: a call's, with the payload rendered from the command. */
async function commandCall(rt: Runtime, body: unknown, caller: Caller) {
  const input = parse(commandCallSchema, body);
  const cmd = await rt.commands.prepare(input.commandId, input.params, input.productId);
  return rt.hub.call({
    productId: input.productId,
    deviceName: input.deviceName,
    payload: cmd.payload,
    timeoutMs: input.timeoutMs ?? cmd.timeoutMs,
    commandId: cmd.commandId,
    source: "api",
    caller: await callCaller(caller, (id) => rt.keys.nameOf(id)),
  });
}

async function* targetsCsv(targets: AsyncIterable<BatchTarget>): AsyncGenerator<string> {
  yield "index,productId,deviceName,status,processId\r\n";
  // Ids hold no commas, quotes or line breaks (lib/rrpc/topics.ts): no quoting needed.
  for await (const t of targets) yield `${t.index},${t.productId},${t.deviceName},${t.status},${t.processId ?? ""}\r\n`;
}

async function* targetsJson(targets: AsyncIterable<BatchTarget>): AsyncGenerator<string> {
  let sep = "[";
  for await (const t of targets) {
    yield sep + JSON.stringify(t);
    sep = ",";
  }
  yield sep === "[" ? "[]" : "]";
}

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
    access: "operator",
    handle: async (req, { rt, caller }) => {
      // A body over its limit is a payload over RRPC_MAX_PAYLOAD: said so, not as a body size the caller never set.
      const body = await readJson(req, maxCallBodyBytes(rt), () => payloadTooLarge(rt.config.maxPayloadBytes));
      if (typeof body === "object" && body !== null && "commandId" in body) return callResponse(callToJson(await commandCall(rt, body, caller)));
      const input = parse(createCallSchema, body);
      return callResponse(callToJson(await rt.hub.call({ ...input, source: "api", caller: await callCaller(caller, (id) => rt.keys.nameOf(id)) })));
    },
  },
  {
    method: "GET",
    path: "/api/commands",
    access: "viewer",
    handle: async (_req, { rt }) => json(200, { commands: await rt.commands.list() } satisfies CommandList),
  },
  {
    method: "POST",
    path: "/api/commands",
    access: "operator",
    handle: async (req, { rt }) => json(201, await rt.commands.create(parse(commandSchema, await readJson(req, maxCallBodyBytes(rt))))),
  },
  {
    method: "GET",
    path: "/api/commands/:id",
    access: "viewer",
    handle: async (_req, { rt, params }) => json(200, await rt.commands.get(parse(commandIdParam, params).id)),
  },
  {
    method: "PUT",
    path: "/api/commands/:id",
    access: "operator",
    handle: async (req, { rt, params }) => {
      const { id } = parse(commandIdParam, params);
      return json(200, await rt.commands.update(id, parse(commandSchema, await readJson(req, maxCallBodyBytes(rt)))));
    },
  },
  {
    method: "DELETE",
    path: "/api/commands/:id",
    access: "operator",
    handle: async (_req, { rt, params }) => {
      await rt.commands.delete(parse(commandIdParam, params).id);
      return noContent();
    },
  },
  {
    method: "POST",
    path: "/api/batches",
    access: "operator",
    handle: async (req, { rt, caller }) => {
      const q = parse(createBatchQuery, queryObject(req), "query");
      const body = await readJson(
        req,
        maxBatchBodyBytes(rt),
        () =>
          new DomainError(
            "too_many_targets",
            `the request body is over ${maxBatchBodyBytes(rt)} bytes: a batch has at most ${MAX_BATCH_TARGETS} targets`,
          ),
      );
      const batch = await rt.batches.start(parse(createBatchSchema, body), callerLabel(caller));
      if (q.wait !== "1" && q.wait !== "true") return json(202, batch);
      const after = await rt.batches.whenEnded(batch.batchId, q.waitMs ?? BATCH_WAIT_MS);
      return json(after.status === "running" ? 202 : 200, after);
    },
  },
  {
    method: "GET",
    path: "/api/batches",
    access: "viewer",
    handle: async (_req, { rt }) => json(200, { batches: await rt.batches.list() } satisfies BatchList),
  },
  {
    method: "GET",
    path: "/api/batches/:batchId",
    access: "viewer",
    handle: async (_req, { rt, params }) => json(200, await rt.batches.get(parse(batchIdParam, params).batchId)),
  },
  {
    method: "GET",
    path: "/api/batches/:batchId/targets",
    access: "viewer",
    handle: async (req, { rt, params }) =>
      json(200, await rt.batches.targets(parse(batchIdParam, params).batchId, parse(listTargetsSchema, queryObject(req), "query"))),
  },
  {
    method: "GET",
    path: "/api/batches/:batchId/export",
    access: "viewer",
    handle: async (req, { rt, params }) => {
      const { batchId } = parse(batchIdParam, params);
      const { format } = parse(exportTargetsSchema, queryObject(req), "query");
      const targets = await rt.batches.allTargets(batchId);
      return attachment(format, `rrpc-batch-${batchId}`, chunked(format === "csv" ? targetsCsv(targets) : targetsJson(targets)));
    },
  },
  {
    method: "POST",
    path: "/api/batches/:batchId/cancel",
    access: "operator",
    handle: async (_req, { rt, params }) => json(200, await rt.batches.cancel(parse(batchIdParam, params).batchId)),
  },
  {
    method: "POST",
    path: "/api/batches/:batchId/retry",
    access: "operator",
    handle: async (req, { rt, params, caller }) => {
      const { batchId } = parse(batchIdParam, params);
      const body = req.header("content-length") === "0" || !req.header("content-type") ? {} : await readJson(req);
      return json(202, await rt.batches.retry(batchId, parse(retryBatchSchema, body), callerLabel(caller)));
    },
  },
  {
    method: "GET",
    path: "/api/limits",
    access: "viewer",
    handle: (_req, { rt }) =>
      json(200, {
        maxPayloadBytes: rt.config.maxPayloadBytes,
        maxReplyBytes: rt.config.maxReplyBytes,
        minTimeoutMs: MIN_TIMEOUT_MS,
        maxTimeoutMs: MAX_TIMEOUT_MS,
        defaultTimeoutMs: rt.config.defaultTimeoutMs,
        productLimits: rt.products.allLimits(),
      } satisfies Limits),
  },
  {
    method: "GET",
    path: "/api/calls",
    access: "viewer",
    handle: async (req, { rt }) => jsonStream(200, await listCalls(rt.store, parse(listCallsSchema, queryObject(req), "query"))),
  },
  {
    method: "GET",
    path: "/api/calls/count",
    access: "viewer",
    handle: async (req, { rt }) => json(200, { total: await rt.store.count(parse(countCallsSchema, queryObject(req), "query")) } satisfies CallCount),
  },
  {
    method: "GET",
    path: "/api/calls/export",
    access: "viewer",
    handle: (req, { rt }) => {
      const q = parse(exportCallsSchema, queryObject(req), "query");
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      return attachment(q.format, `rrpc-calls-${stamp}`, exportCalls(rt.store, q));
    },
  },
  {
    method: "GET",
    path: "/api/calls/:processId",
    access: "viewer",
    handle: async (_req, { rt, params }) => json(200, await getCall(rt.store, parse(callParams, params).processId)),
  },
  {
    method: "GET",
    path: "/api/devices",
    access: "viewer",
    handle: async (_req, { rt }) => json(200, await listDevices(rt.devices, rt.store, rt.broker?.onlineDevices() ?? null)),
  },
  {
    method: "POST",
    path: "/api/devices",
    access: "admin",
    handle: async (req, { rt }) => {
      const { productId, deviceName } = parse(createDeviceSchema, await readJson(req));
      return json(201, await rt.devices.createDevice(productId, deviceName));
    },
  },
  {
    method: "PATCH",
    path: "/api/devices/:productId/:deviceName",
    access: "admin",
    handle: async (req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      const { disabled } = parse(updateDeviceSchema, await readJson(req));
      return json(200, await rt.devices.setDisabled(productId, deviceName, disabled));
    },
  },
  {
    method: "DELETE",
    path: "/api/devices/:productId/:deviceName",
    access: "admin",
    handle: async (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      await rt.devices.deleteDevice(productId, deviceName);
      return noContent();
    },
  },
  {
    method: "POST",
    path: "/api/devices/:productId/:deviceName/secret",
    access: "admin",
    handle: async (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      return json(200, await rt.devices.rotateSecret(productId, deviceName));
    },
  },
  {
    method: "GET",
    path: "/api/devices/:productId/:deviceName/connect",
    access: "admin",
    handle: async (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      const mqtt = rt.broker ? { host: rt.config.mqttHost, port: rt.broker.tcpPort } : null;
      return json(200, await deviceConnectInfo(rt.devices, productId, deviceName, mqtt));
    },
  },
  {
    method: "GET",
    path: "/api/devices/:productId/:deviceName/presence",
    access: "viewer",
    handle: (_req, { rt, params }) => {
      const { productId, deviceName } = deviceOf(params);
      return json(
        200,
        rt.presence?.of(productId, deviceName) ?? ({ tracked: false, since: null, changes: [], complete: false } satisfies DevicePresence),
      );
    },
  },
  {
    method: "GET",
    path: "/api/products",
    access: "viewer",
    handle: async (_req, { rt }) => json(200, await rt.products.list()),
  },
  {
    method: "GET",
    path: "/api/products/:productId",
    access: "viewer",
    handle: async (_req, { rt, params }) => json(200, await rt.products.get(parse(productParams, params).productId)),
  },
  {
    method: "PUT",
    path: "/api/products/:productId",
    access: "admin",
    handle: async (req, { rt, params }) => {
      const { productId } = parse(productParams, params);
      const { maxRequestBytes } = parse(productSettingsSchema, await readJson(req));
      return json(200, await rt.products.setLimit(productId, maxRequestBytes));
    },
  },
  {
    method: "GET",
    path: "/api/stats",
    access: "viewer",
    handle: async (req, { rt }) => json(200, await callStats(rt.store, parse(statsQuerySchema(clock.epoch(clock.now())), queryObject(req), "query"))),
  },
  {
    method: "GET",
    path: "/api/stats/devices",
    access: "viewer",
    handle: async (req, { rt }) =>
      json(200, await deviceStatsRanking(rt.store, parse(deviceStatsQuerySchema(clock.epoch(clock.now())), queryObject(req), "query"))),
  },
  {
    // Prometheus. Its own check, like Tencent's below (metrics/access.ts): whoever may use the
    // API, or a scraper with RRPC_METRICS_TOKEN.
    method: "GET",
    path: "/metrics",
    access: "public",
    handle: async (req, { rt }) => {
      await authorizeScrape(rt.callerAuth, rt.config.metricsToken, req.header);
      const { contentType, body } = await rt.metrics.scrape();
      return { status: 200, headers: { "content-type": contentType, "cache-control": "no-store" }, body };
    },
  },
  {
    method: "GET",
    path: "/api/keys",
    access: "admin",
    handle: async (_req, { rt }) => json(200, { keys: await rt.keys.listApiKeys() }),
  },
  {
    method: "POST",
    path: "/api/keys",
    access: "admin",
    handle: async (req, { rt }) => {
      const { name, role } = parse(createKeySchema, await readJson(req));
      return json(201, await rt.keys.createApiKey(name, role));
    },
  },
  {
    method: "DELETE",
    path: "/api/keys/:secretId",
    access: "admin",
    handle: async (_req, { rt, params }) => json(200, await rt.keys.revokeApiKey(parse(keyParams, params).secretId)),
  },
  {
    method: "GET",
    path: "/api/session",
    access: "public",
    handle: async (req, { rt }) => json(200, await sessionInfo(rt.callerAuth, req.header("cookie"))),
  },
  {
    method: "POST",
    path: "/api/session",
    access: "public",
    handle: async (req, { rt }) => {
      const { user, password } = parse(signInSchema, await readJson(req));
      const session = await rt.operatorSignIn.signIn(user, password, req.remoteAddress);
      return json(200, { required: true, user: session.user, role: session.role } satisfies SessionInfo, {
        "set-cookie": sessionCookie(session.token, SESSION_TTL_MS, req.secure),
      });
    },
  },
  {
    method: "DELETE",
    path: "/api/session",
    access: "public",
    // Ends the session on the server too: a copy of the cookie stops working.
    handle: async (req, { rt }) => {
      await signOut(rt.callerAuth, req.header("cookie"));
      return noContent({ "set-cookie": sessionCookie("", 0, req.secure) });
    },
  },
  {
    method: "GET",
    path: "/api/users",
    access: "admin",
    handle: async (_req, { rt }) => json(200, { users: await rt.users.list() } satisfies UserList),
  },
  {
    method: "POST",
    path: "/api/users",
    access: "admin",
    handle: async (req, { rt }) => {
      const { name, role, password } = parse(createUserSchema, await readJson(req));
      return json(201, await rt.users.add(name, role, await hashPasswordAsync(password)));
    },
  },
  {
    method: "PATCH",
    path: "/api/users/:name",
    access: "admin",
    handle: async (req, { rt, params }) => {
      const { name } = parse(userParams, params);
      const change = parse(updateUserSchema, await readJson(req));
      if (change.password !== undefined) await rt.users.setPasswordHash(name, await hashPasswordAsync(change.password));
      if (change.role !== undefined) await rt.users.setRole(name, change.role);
      if (change.disabled !== undefined) await rt.users.setDisabled(name, change.disabled);
      const user = await rt.users.get(name);
      if (!user) throw new DomainError("user_not_found", `no user named ${name}`);
      return json(200, user);
    },
  },
  {
    method: "DELETE",
    path: "/api/users/:name",
    access: "admin",
    handle: async (_req, { rt, params }) => {
      await rt.users.remove(parse(userParams, params).name);
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/api/live",
    access: "viewer",
    handle: (_req, { rt }) =>
      json(
        200,
        liveConfig({
          liveTokens: rt.liveTokens,
          wsPort: rt.broker?.wsPort ?? null,
          publicUrl: rt.config.mqttWsPublicUrl,
          brokerHooks: rt.brokerRules !== null,
        }),
      ),
  },
  ...(["authn", "authz"] as const).map((hook): Route => ({
    // An external broker's HTTP hooks (docs/scale-out.md). Public to the role check: the hook
    // secret is the authentication (auth/broker-hooks.ts).
    method: "POST",
    path: `/api/broker/${hook}`,
    access: "public",
    handle: (req, { rt }) => brokerHook(rt, req, hook),
  })),
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
        // A key sends calls only with the operator role or above (a viewer key is refused).
        call: async (input) => {
          const role = (await rt.keys.roleOf(input.caller?.id ?? "")) ?? "viewer";
          if (!roleAllows(role, "operator")) throw new DomainError("forbidden", `needs role operator; this key's role is ${role}`);
          return rt.hub.call(input);
        },
        secretFor: (id) => rt.keys.secretFor(id),
        keyName: (id) => rt.keys.nameOf(id),
        onAuthenticated: (id) => rt.keys.markApiKeyUsed(id),
      }),
  })),
];

/**
 * Without the secret: 401 (EMQX reads it as "ignore": its chain must end in deny). With it,
 * always 200 and an answer: a body that cannot be read or parsed is a deny.
 */
async function brokerHook(rt: Runtime, req: HttpRequest, hook: "authn" | "authz"): Promise<HttpResponse> {
  const secret = rt.config.brokerHookSecret;
  if (!secret || !rt.brokerRules) throw new HttpError("not_found", "the broker hooks are off: set RRPC_BROKER_HOOK_SECRET (with MQTT_URL)");
  if (!hookSecretMatches(req.header("authorization"), secret)) {
    throw new DomainError("bad_credentials", "send Authorization: Bearer <RRPC_BROKER_HOOK_SECRET>");
  }
  const raw = await req.body(HOOK_BODY_MAX_BYTES).catch(() => null);
  let body: unknown;
  try {
    body = raw ? JSON.parse(raw.toString("utf8")) : undefined;
  } catch {
    body = undefined;
  }
  // A store that does not answer is a deny, never a 500 (EMQX would read a 5xx as "ignore").
  const answer = await (hook === "authn" ? authnHook(rt.brokerRules, body, Date.now()) : authzHook(rt.brokerRules, body)).catch((err: Error) => {
    log.warn("broker hook failed: the store did not answer", { hook, error: err.message });
    return { result: "deny" as const };
  });
  rt.metrics.countHookDecision(hook, answer.result === "allow" ? "allow" : "deny");
  return json(200, answer);
}

export function isTencentRequest(req: HttpRequest): boolean {
  return req.header("x-tc-action") !== null;
}
