/**
 * The baseline of the `http` row: a bare node:http server whose POST /api/calls makes the
 * same engine call as the production route (Hub.call, answered with callToJson and the same
 * status codes), without the router, auth, zod or the request adapter. http / bare-http is what
 * that layer costs.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { callToJson } from "../lib/server/core/call";
import type { Hub } from "../lib/server/calls/hub";
import { ERROR_STATUS, OUTCOME_ERRORS, responseForError } from "../lib/server/http/errors";
import { LISTEN_BACKLOG } from "../lib/server/core/net";

type Body = { productId: string; deviceName: string; payload: string; timeoutMs?: number };

export async function startBareHttp(hub: Hub): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/api/calls") return send(404, { error: { code: "not_found", message: "not found" } });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        try {
          const b = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body;
          const call = await hub.call({
            productId: b.productId,
            deviceName: b.deviceName,
            payload: Buffer.from(b.payload, "utf8"),
            timeoutMs: b.timeoutMs,
            source: "api",
          });
          const json = callToJson(call);
          if (call.status === "success") return send(200, json);
          const outcome = OUTCOME_ERRORS[call.status as keyof typeof OUTCOME_ERRORS];
          send(ERROR_STATUS[outcome.code], { error: { code: outcome.code, message: outcome.message }, call: json });
        } catch (err) {
          const r = responseForError(err);
          res.writeHead(r.status, r.headers).end(r.body);
        }
      })();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: LISTEN_BACKLOG }, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
