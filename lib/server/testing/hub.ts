import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { loadConfig } from "../config/config";
import { createRuntime, type Runtime } from "../runtime/runtime";
import { createRequestListener } from "../http/node";
import { signTc3 } from "../tencent/tc3";
import { tempDir } from "./servers";

/** A hub in this process: the runtime (embedded broker on free ports, SQLite) behind the real request door, pages answered 404. */
export type InProcessHub = { rt: Runtime; url: string; mqttUrl: string; server: Server; stop(): Promise<void> };

export async function startInProcessHub(env: Record<string, string> = {}): Promise<InProcessHub> {
  const rt = await createRuntime(loadConfig({ RRPC_DB: join(tempDir(), "rrpc.db"), MQTT_PORT: "0", MQTT_WS_PORT: "0", RRPC_SIMULATOR: "0", ...env }));
  const server = createServer(createRequestListener(rt, (_req, res) => void res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    rt,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mqttUrl: `mqtt://127.0.0.1:${rt.broker?.tcpPort ?? 0}`,
    server,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rt.stop();
    },
  };
}

export type ApiErrorAnswer = { error?: { code: string; message: string; fields?: { field: string; message: string }[] } };

/** One request to the native API; a JSON answer parsed, any other text as it is. */
export async function apiRequest<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown) {
  const r = await fetch(baseUrl + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  const parsed: unknown = text && r.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  return { status: r.status, body: parsed as T & ApiErrorAnswer };
}

/** PublishRRPCMessage as Tencent's SDKs send it: POST / with a TC3-HMAC-SHA256 signature made now; Tencent's `Response`. */
export async function publishRrpc(
  baseUrl: string,
  key: { secretId: string; secretKey: string },
  params: { ProductId: string; DeviceName: string; Payload: string },
) {
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify(params);
  const host = new URL(baseUrl).host;
  const authorization = signTc3({ method: "POST", host, contentType: "application/json", body, timestamp, service: "iotcloud", ...key });
  const r = await fetch(baseUrl + "/", {
    method: "POST",
    headers: {
      authorization,
      "content-type": "application/json",
      "x-tc-action": "PublishRRPCMessage",
      "x-tc-version": "2021-04-08",
      "x-tc-timestamp": String(timestamp),
    },
    body,
  });
  return {
    status: r.status,
    response: ((await r.json()) as { Response: { PayloadBase64?: string; Error?: { Code: string; Message: string } } }).Response,
  };
}
