import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { CommonClient } from "tencentcloud-sdk-nodejs/tencentcloud/common/common_client";
import { startEmbeddedBroker, type EmbeddedBroker } from "../broker/embedded";
import { Hub } from "../calls/hub";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { DeviceRegistry } from "../devices/registry";
import { ApiKeys } from "../keys/api-keys";
import { isObserver } from "../runtime/runtime";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { tempDir } from "../testing/servers";
import { DomainError, type DomainReason } from "../core/errors";
import { plainRequest } from "../testing/http";
import type { CallRecord } from "../core/call";
import { TERMINAL_STATUSES } from "../../rrpc/types";
import { startSimDevice, type SimDevice, type SimDeviceOptions } from "../simulator/simulator";
import { handleTencent, REASON_CODES, STATUS_ERRORS, type TencentDeps } from "./publish-rrpc";
import { signTc3 } from "./tc3";
import { tencentSdkClient, type SdkVersion } from "../testing/tencent-sdk";

const P = "TCPROD0001";
const MAX_PAYLOAD = 1024;

let broker: EmbeddedBroker;
let store: Store;
let hub: Hub;
let registry: DeviceRegistry;
let keys: ApiKeys;
let server: Server;
let endpoint: string;
let key: { secretId: string; secretKey: string };
/** Shifts the server's clock, to make the SDK's timestamps old. */
let serverClockOffset = 0;
const closers: (() => Promise<void>)[] = [];
/** What the SDK put on the wire, per request. */
const seen: { method: string; url: string; version: string | undefined; bodyBytes: number; contentType: string | undefined }[] = [];

async function serve(deps: TencentDeps): Promise<{ server: Server; endpoint: string }> {
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const body = Buffer.concat(chunks);
      const version = req.headers["x-tc-version"];
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        version: typeof version === "string" ? version : undefined,
        bodyBytes: body.length,
        contentType: req.headers["content-type"],
      });
      void handleTencent(plainRequest(req.method ?? "GET", req.url ?? "/", headers, body), deps).then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      });
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const a = s.address();
  return { server: s, endpoint: `127.0.0.1:${typeof a === "object" && a ? a.port : 0}` };
}

beforeAll(async () => {
  broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver });
  store = new Store(join(tempDir(), "rrpc.db"));
  registry = new DeviceRegistry(new SqliteCallStore(store).sql);
  keys = new ApiKeys(new SqliteCallStore(store).sql);
  hub = new Hub({
    store: new SqliteCallStore(store),
    mqttUrl: `mqtt://127.0.0.1:${broker.tcpPort}`,
    broker,
    maxInFlight: 10_000,
    maxPayloadBytes: MAX_PAYLOAD,
    // PublishRRPCMessage has no timeout field; Tencent's 4 s would only slow the timeout test down.
    defaultTimeoutMs: 300,
    // The one device check of a call, as in production (runtime.ts).
    deviceState: (p, d) => registry.deviceState(p, d),
  });
  await hub.start();
  key = await keys.createApiKey("sdk test");
  ({ server, endpoint } = await serve({
    call: (input) => hub.call(input),
    secretFor: (id) => keys.secretFor(id),
    now: () => Date.now() / 1000 + serverClockOffset,
    onAuthenticated: (id) => keys.markApiKeyUsed(id),
  }));
});

afterEach(async () => {
  serverClockOffset = 0;
  for (const c of closers.splice(0)) await c();
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await hub.stop();
  store.close();
  await broker.close();
});

type Version = SdkVersion;

type RrpcResponse = { MessageId: number; PayloadBase64: string; RequestId?: string };
type RrpcRequest = { ProductId: string; DeviceName: string; Payload: string };

/** PublishRRPCMessage through the SDK (the 2018-06-14 typings mark the answer's fields optional). */
function publish(req: RrpcRequest, opts: Parameters<typeof sdkClient>[0] = {}): Promise<RrpcResponse> {
  return sdkClient(opts).PublishRRPCMessage(req) as Promise<RrpcResponse>;
}

function sdkClient(opts: { version?: Version; secretKey?: string; secretId?: string; reqMethod?: "GET" | "POST" } = {}) {
  return tencentSdkClient({ endpoint, secretId: key.secretId, secretKey: key.secretKey, ...opts });
}

async function device(deviceName: string, opts: Partial<SimDeviceOptions> = {}): Promise<SimDevice> {
  const d = await startSimDevice({ url: `mqtt://127.0.0.1:${broker.tcpPort}`, productId: P, deviceName, ...opts });
  closers.push(() => d.stop());
  return d;
}

async function register(deviceName: string) {
  if (!(await registry.getDevice(P, deviceName))) await registry.createDevice(P, deviceName);
}

/** The SDK's exception code for a call expected to fail. */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  throw new Error("the call succeeded");
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

describe("PublishRRPCMessage through the official SDK, against the real hub", () => {
  it("returns the processId as MessageId and the device's reply as PayloadBase64 (2021-04-08, POST)", async () => {
    await register("dev-ok");
    await device("dev-ok", { reply: "ok" });
    const r = await publish({ ProductId: P, DeviceName: "dev-ok", Payload: "closed" });
    expect(r.PayloadBase64).toBe(b64("ok"));
    expect(typeof r.MessageId).toBe("number");
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    const call = store.get(r.MessageId)!;
    expect(call.processId).toBe(String(r.MessageId).padStart(call.processId.length, "0"));
    expect(call.messageId).toBe(r.MessageId);
    expect(call.source).toBe("tencent");
    expect(call.status).toBe("success");
    expect(Buffer.from(call.request).toString()).toBe("closed");
    expect((await keys.getApiKey(key.secretId))?.lastUsedAt).not.toBeNull();
  });

  it("works with API version 2018-06-14 and with UTF-8 payloads both ways", async () => {
    await register("dev-echo");
    await device("dev-echo", { reply: (req) => Buffer.concat([Buffer.from("echo:"), req]) });
    const payload = '{"power":"关","t":21.5}';
    const r = await publish({ ProductId: P, DeviceName: "dev-echo", Payload: payload }, { version: "v20180614" });
    expect(Buffer.from(r.PayloadBase64, "base64").toString("utf8")).toBe("echo:" + payload);
    expect(seen.at(-1)).toMatchObject({ method: "POST", version: "2018-06-14", contentType: "application/json" });
    const r2 = await publish({ ProductId: P, DeviceName: "dev-echo", Payload: payload }, { version: "v20210408" });
    expect(r2.MessageId).toBeGreaterThan(r.MessageId);
    expect(seen.at(-1)).toMatchObject({ version: "2021-04-08" });
  });

  it("accepts the SDK's GET form (query string, empty body), special characters included", async () => {
    await register("dev-get");
    await device("dev-get", { reply: (req) => req });
    const payload = "a b&c=d+e/f?g'h(i)*!~%中文";
    const r = await publish({ ProductId: P, DeviceName: "dev-get", Payload: payload }, { reqMethod: "GET" });
    expect(Buffer.from(r.PayloadBase64, "base64").toString("utf8")).toBe(payload);
    expect(store.get(r.MessageId)?.source).toBe("tencent");
    const wire = seen.at(-1)!;
    expect(wire).toMatchObject({ method: "GET", bodyBytes: 0, contentType: "application/x-www-form-urlencoded" });
    expect(wire.url).toMatch(/^\/\?.*Payload=/);
  });

  it("FailedOperation.DeviceOffline when the device is not connected", async () => {
    await register("dev-offline");
    expect(await codeOf(sdkClient().PublishRRPCMessage({ ProductId: P, DeviceName: "dev-offline", Payload: "x" }))).toBe(
      "FailedOperation.DeviceOffline",
    );
  });

  it("FailedOperation.DeviceNoSubscription when the device is connected but not subscribed", async () => {
    await register("dev-nosub");
    const c: MqttClient = connectMqtt(`mqtt://127.0.0.1:${broker.tcpPort}`, { clientId: P + "dev-nosub", reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => (c.once("connect", () => resolve()), c.once("error", reject)));
    closers.push(() => endMqtt(c, true));
    expect(await codeOf(sdkClient().PublishRRPCMessage({ ProductId: P, DeviceName: "dev-nosub", Payload: "x" }))).toBe(
      "FailedOperation.DeviceNoSubscription",
    );
  });

  it("FailedOperation.RRPCTimeout when the device does not answer", async () => {
    await register("dev-silent");
    const d = await device("dev-silent", { silent: true });
    expect(await codeOf(sdkClient().PublishRRPCMessage({ ProductId: P, DeviceName: "dev-silent", Payload: "x" }))).toBe(
      "FailedOperation.RRPCTimeout",
    );
    // The hub's record of the call: it timed out at the default timeout (its own monotonic clock).
    const calls = store.list({ limit: 10, deviceName: "dev-silent" });
    expect(calls.map((c) => [c.source, c.status, c.timeoutMs])).toEqual([["tencent", "timeout", 300]]);
    expect(calls[0]!.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "timeout"]);
    expect(calls[0]!.events.at(-1)!.t).toBeGreaterThanOrEqual(300);
    expect(d.received).toBe(1);
  });

  it("ResourceNotFound.DeviceNotExist and FailedOperation.DeviceAlreadyDisabled from the registry", async () => {
    expect(await codeOf(sdkClient().PublishRRPCMessage({ ProductId: P, DeviceName: "nobody", Payload: "x" }))).toBe(
      "ResourceNotFound.DeviceNotExist",
    );
    await register("dev-disabled");
    const d = await device("dev-disabled");
    await registry.setDisabled(P, "dev-disabled", true);
    expect(await codeOf(sdkClient().PublishRRPCMessage({ ProductId: P, DeviceName: "dev-disabled", Payload: "x" }))).toBe(
      "FailedOperation.DeviceAlreadyDisabled",
    );
    expect(d.received).toBe(0);
  });

  it("InvalidParameterValue.PayloadOverLimit, InvalidParameterValue and MissingParameter", async () => {
    await register("dev-limits");
    await device("dev-limits");
    const c = sdkClient();
    expect(await codeOf(c.PublishRRPCMessage({ ProductId: P, DeviceName: "dev-limits", Payload: "x".repeat(MAX_PAYLOAD + 1) }))).toBe(
      "InvalidParameterValue.PayloadOverLimit",
    );
    const atLimit = await c.PublishRRPCMessage({ ProductId: P, DeviceName: "dev-limits", Payload: "x".repeat(MAX_PAYLOAD) });
    expect(atLimit.PayloadBase64).toBe(b64("ok"));
    expect(await codeOf(c.PublishRRPCMessage({ ProductId: "bad/id", DeviceName: "dev-limits", Payload: "x" }))).toBe("InvalidParameterValue");
    expect(await codeOf(c.PublishRRPCMessage({ ProductId: P, DeviceName: "a+b", Payload: "x" }))).toBe("InvalidParameterValue");
    expect(await codeOf(c.PublishRRPCMessage({ ProductId: P, DeviceName: "dev-limits" } as never))).toBe("MissingParameter");
    expect(await codeOf(c.request("PublishRRPCMessage", { ProductId: P, DeviceName: "dev-limits", Payload: "x", Qos: 1 }))).toBe("UnknownParameter");
  });

  it("AuthFailure.SignatureFailure, SecretIdNotFound (unknown or revoked) and SignatureExpire", async () => {
    expect(
      await codeOf(sdkClient({ secretKey: "wrong" + key.secretKey.slice(5) }).PublishRRPCMessage({ ProductId: P, DeviceName: "x", Payload: "x" })),
    ).toBe("AuthFailure.SignatureFailure");
    expect(
      await codeOf(sdkClient({ secretId: "AKIDunknownunknownunknownunknown12" }).PublishRRPCMessage({ ProductId: P, DeviceName: "x", Payload: "x" })),
    ).toBe("AuthFailure.SecretIdNotFound");
    const revoked = await keys.createApiKey("to revoke");
    await keys.revokeApiKey(revoked.secretId);
    expect(await codeOf(sdkClient(revoked).PublishRRPCMessage({ ProductId: P, DeviceName: "x", Payload: "x" }))).toBe("AuthFailure.SecretIdNotFound");
    // The SDK stamps requests with its own clock: run the server 10 minutes ahead instead.
    serverClockOffset = 600;
    expect(await codeOf(sdkClient().PublishRRPCMessage({ ProductId: P, DeviceName: "x", Payload: "x" }))).toBe("AuthFailure.SignatureExpire");
  });

  it("AuthFailure.SignatureExpire for a hand-signed request stamped 10 minutes ago, as an HTTP 200", async () => {
    const body = JSON.stringify({ ProductId: P, DeviceName: "x", Payload: "x" });
    const timestamp = Math.floor(Date.now() / 1000) - 600;
    const authorization = signTc3({ method: "POST", host: endpoint, contentType: "application/json", body, timestamp, service: "127", ...key });
    const res = await fetch(`http://${endpoint}/`, {
      method: "POST",
      headers: {
        authorization,
        "content-type": "application/json",
        "x-tc-action": "PublishRRPCMessage",
        "x-tc-version": "2021-04-08",
        "x-tc-timestamp": String(timestamp),
        "x-tc-traceid": "trace-1",
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-tc-traceid")).toBe("trace-1");
    const json = (await res.json()) as { Response: { Error: { Code: string; Message: string }; RequestId: string } };
    expect(json.Response.Error.Code).toBe("AuthFailure.SignatureExpire");
    expect(json.Response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("InvalidAction and NoSuchVersion", async () => {
    const opts = { credential: key, region: "ap-guangzhou", profile: { httpProfile: { endpoint, protocol: "http://" } } };
    const c = new CommonClient(endpoint, "2021-04-08", opts);
    expect(await codeOf(c.request("DescribeDevice", { ProductId: P, DeviceName: "x" }))).toBe("InvalidAction");
    const old = new CommonClient(endpoint, "2017-03-12", opts);
    expect(await codeOf(old.request("PublishRRPCMessage", { ProductId: P, DeviceName: "x", Payload: "x" }))).toBe("NoSuchVersion");
  });
});

describe("handleTencent maps every outcome", () => {
  const secretId = "AKIDmapmapmapmapmapmapmapmapmapmapma";
  const secretKey = "mapSecretKeymapSecretKeymapSecret";

  function signed(method = "POST") {
    const host = "hub.example:3000";
    const timestamp = Math.floor(Date.now() / 1000);
    const body = method === "POST" ? JSON.stringify({ ProductId: P, DeviceName: "dev", Payload: "x" }) : "";
    const contentType = method === "POST" ? "application/json" : "application/x-www-form-urlencoded";
    const authorization = signTc3({ method, host, contentType, body, timestamp, service: "hub", secretId, secretKey });
    const headers = {
      host,
      authorization,
      "content-type": contentType,
      "x-tc-action": "PublishRRPCMessage",
      "x-tc-version": "2021-04-08",
      "x-tc-timestamp": String(timestamp),
    };
    return plainRequest(method, "/", headers, body);
  }

  async function respond(call: TencentDeps["call"], req = signed()) {
    const res = await handleTencent(req, { call, secretFor: async (id) => (id === secretId ? secretKey : null) });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { Response: { Error?: { Code: string; Message: string }; MessageId?: number } }).Response;
  }

  const record = (status: CallRecord["status"]): CallRecord => ({
    processId: "1000000042",
    messageId: 1000000042,
    productId: P,
    deviceName: "dev",
    source: "tencent",
    status,
    request: Buffer.from("x"),
    reply: status === "success" ? Buffer.from("ok") : undefined,
    timeoutMs: 4000,
    startedAt: Date.now(),
    events: [],
  });

  it("each terminal status", async () => {
    for (const status of TERMINAL_STATUSES) {
      const r = await respond(async () => record(status));
      if (status === "success") expect(r).toMatchObject({ MessageId: 1000000042, PayloadBase64: b64("ok") });
      else expect(r.Error?.Code, status).toBe(STATUS_ERRORS[status].code);
    }
    expect(STATUS_ERRORS.busy.code).toBe("RequestLimitExceeded");
    expect(STATUS_ERRORS.interrupted.code).toBe("InternalError");
    expect(STATUS_ERRORS.broker_unavailable.code).toBe("InternalError");
  });

  it("a reply over the limit: FailedOperation.RRPCReplyOverLimit, naming the size and the limit", async () => {
    const r = await respond(async () => ({
      ...record("reply_too_large"),
      events: [{ type: "reply_too_large", t: 3, detail: { bytes: 52428800, limit: 1048576 } }],
    }));
    expect(r.Error).toEqual({
      Code: "FailedOperation.RRPCReplyOverLimit",
      Message: "the device's reply is 52428800 bytes, over the hub's limit of 1048576",
    });
  });

  it("every domain refusal by its own code, anything else as InternalError", async () => {
    const expected: Record<DomainReason, string> = {
      invalid_input: "InvalidParameterValue",
      payload_too_large: "InvalidParameterValue.PayloadOverLimit",
      device_not_found: "ResourceNotFound.DeviceNotExist",
      device_disabled: "FailedOperation.DeviceAlreadyDisabled",
      device_exists: "InvalidParameterValue",
      call_not_found: "InternalError",
      key_not_found: "AuthFailure.SecretIdNotFound",
      sign_in_disabled: "UnauthorizedOperation",
      bad_credentials: "AuthFailure.SignatureFailure",
      unauthenticated: "AuthFailure.SignatureFailure",
      throttled: "RequestLimitExceeded",
      store_unavailable: "InternalError",
      command_not_found: "InvalidParameterValue",
      command_exists: "InvalidParameterValue",
      batch_not_found: "InvalidParameterValue",
      batch_conflict: "InvalidParameterValue",
      too_many_targets: "InvalidParameterValue",
      forbidden: "UnauthorizedOperation",
      user_exists: "InvalidParameterValue",
      user_not_found: "InvalidParameterValue",
      user_conflict: "InvalidParameterValue",
    };
    expect(Object.keys(REASON_CODES).sort()).toEqual(Object.keys(expected).sort());
    for (const reason of Object.keys(expected) as DomainReason[]) {
      const r = await respond(async () => {
        throw new DomainError(reason, "boom");
      });
      expect(r.Error, reason).toEqual({ Code: expected[reason], Message: "boom" });
    }
    const crash = await respond(async () => Promise.reject(new Error("disk full")));
    expect(crash.Error?.Code).toBe("InternalError");
    expect(JSON.stringify(crash)).not.toContain("disk full");
  });

  it("refuses methods other than GET and POST, still as HTTP 200", async () => {
    const r = await respond(async () => record("success"), plainRequest("PUT", "/", { host: "hub.example:3000" }, "{}"));
    expect(r.Error?.Code).toBe("UnsupportedProtocol");
  });
});
