/**
 * Tencent's official Node SDK (tencentcloud-sdk-nodejs) pointed at the running production server,
 * exactly as a Tencent IoT Hub user would: `profile.httpProfile = { endpoint, protocol: "http://" }`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tencentSdkClient, type SdkVersion } from "../testing/tencent-sdk";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { registerDevice, startServer, type ServerHandle } from "../testing/servers";
import { signTc3, sdkServiceFor } from "./tc3";

const KEY = { secretId: "AKIDsdkservertest0000000000000000001", secretKey: "sdkServerTestSecretKey0000000001" };
const P = "AIRCOND001";
let s: ServerHandle;
let endpoint: string;
const devices: SimDevice[] = [];

function client(opts: { version?: SdkVersion; secretId?: string; secretKey?: string; reqMethod?: "GET" | "POST" } = {}) {
  return tencentSdkClient({ endpoint, ...KEY, ...opts });
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

beforeAll(async () => {
  s = await startServer({ RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}`, RRPC_DEFAULT_TIMEOUT_MS: "500" });
  endpoint = `127.0.0.1:${s.port}`;
  const url = `mqtt://127.0.0.1:${s.mqttPort}`;
  await registerDevice(s, P, "parked");
  devices.push(await startSimDevice({ url, productId: P, deviceName: "mute", silent: true, secret: await registerDevice(s, P, "mute") }));
});

afterAll(async () => {
  for (const d of devices) await d.stop();
  await s?.stop();
});

describe("PublishRRPCMessage through the official SDK", () => {
  it("returns MessageId = processId and PayloadBase64 of the device's reply; the call is in the hub's history", async () => {
    for (const [version, reqMethod] of [
      ["v20210408", "POST"],
      ["v20180614", "POST"],
      ["v20210408", "GET"],
    ] as const) {
      const r = await client({ version, reqMethod }).PublishRRPCMessage({ ProductId: P, DeviceName: "airConditioner1", Payload: "closed" });
      expect(r.PayloadBase64, `${version} ${reqMethod}`).toBe(Buffer.from("ok").toString("base64"));
      expect(Number.isSafeInteger(r.MessageId)).toBe(true);
      expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
      const call = (await (await fetch(`${s.url}/api/calls/${r.MessageId}`)).json()) as {
        processId: string;
        status: string;
        request: { payloadText: string };
      };
      expect(call.processId).toBe(String(r.MessageId));
      expect(call.status).toBe("success");
      expect(call.request.payloadText).toBe("closed");
    }
  });

  it("maps offline, timeout and unknown devices to Tencent's error codes", async () => {
    const sdk = client();
    expect(await errorCode(sdk.PublishRRPCMessage({ ProductId: P, DeviceName: "parked", Payload: "x" }))).toBe("FailedOperation.DeviceOffline");
    expect(await errorCode(sdk.PublishRRPCMessage({ ProductId: P, DeviceName: "mute", Payload: "x" }))).toBe("FailedOperation.RRPCTimeout");
    expect(await errorCode(sdk.PublishRRPCMessage({ ProductId: P, DeviceName: "nosuchdevice", Payload: "x" }))).toBe(
      "ResourceNotFound.DeviceNotExist",
    );
  });

  it("refuses a wrong SecretKey, an unknown SecretId and a timestamp 10 minutes old", async () => {
    const req = { ProductId: P, DeviceName: "airConditioner1", Payload: "x" };
    expect(await errorCode(client({ secretKey: "wrongwrongwrongwrongwrongwrong00" }).PublishRRPCMessage(req))).toBe("AuthFailure.SignatureFailure");
    expect(await errorCode(client({ secretId: "AKIDnobodyhasthisid0000000000000000" }).PublishRRPCMessage(req))).toBe("AuthFailure.SecretIdNotFound");

    const body = JSON.stringify(req);
    const timestamp = Math.floor(Date.now() / 1000) - 600;
    const authorization = signTc3({
      method: "POST",
      host: endpoint,
      contentType: "application/json",
      body,
      timestamp,
      service: sdkServiceFor(endpoint),
      secretId: KEY.secretId,
      secretKey: KEY.secretKey,
    });
    const r = await fetch(`${s.url}/`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization,
        "x-tc-action": "PublishRRPCMessage",
        "x-tc-version": "2021-04-08",
        "x-tc-timestamp": String(timestamp),
        "x-tc-region": "ap-guangzhou",
      },
      body,
    });
    expect(r.status).toBe(200);
    const json = (await r.json()) as { Response: { Error: { Code: string } } };
    expect(json.Response.Error.Code).toBe("AuthFailure.SignatureExpire");
  });

  it("answers a body over 10 MiB in Tencent's envelope, with HTTP 200, and keeps serving", async () => {
    const r = await fetch(`${s.url}/`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tc-action": "PublishRRPCMessage", "x-tc-version": "2021-04-08" },
      body: JSON.stringify({ ProductId: P, DeviceName: "airConditioner1", Payload: "x".repeat(11 * 1024 * 1024) }),
    });
    expect(r.status).toBe(200);
    const json = (await r.json()) as { Response: { Error: { Code: string }; RequestId: string } };
    expect(json.Response.Error.Code).toBe("RequestSizeLimitExceeded");
    const ok = await client().PublishRRPCMessage({ ProductId: P, DeviceName: "airConditioner1", Payload: "closed" });
    expect(ok.PayloadBase64).toBe(Buffer.from("ok").toString("base64"));
  });

  it("leaves `/` to browsers when there is no X-TC-Action header", async () => {
    const r = await fetch(`${s.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/text\/html/);
  });
});
