import type { IncomingMessage, ServerResponse } from "node:http";
import { createCallSchema } from "../../rrpc/schemas";
import { authorizeRequest } from "../auth/request-auth";
import { makeCall, maxCallBodyBytes, tencentDeps } from "../calls/service";
import { handleTencent, type TencentHttpResponse } from "../tencent/publish-rrpc";
import { checkJsonHeaders, parse, parseJsonText, replyForError, tooLarge, type Reply } from "./http";
import type { Runtime } from "../runtime/runtime";

/**
 * The two API calls programs make at volume, served straight from node:http, skipping Next.js's
 * request pipeline: that pipeline cost ~90% of the time of a call through the API (npm run
 * bench: ~0.1× a bare node:http server making the same engine call; Tencent's API behind
 * proxy.ts was slower still). The logic is the route handlers': the same auth, schema, call and
 * error path; only the transport differs.
 */
export function isCreateCall(req: IncomingMessage): boolean {
  return req.method === "POST" && (req.url === "/api/calls" || req.url === "/api/calls/");
}

/** Tencent Cloud API 3.0: `POST /` or `GET /?…` with X-TC-Action (what proxy.ts routes otherwise). */
export function isTencentCall(req: IncomingMessage): boolean {
  return req.headers["x-tc-action"] !== undefined && (req.url === "/" || req.url?.startsWith("/?") === true);
}

export async function serveTencentCall(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let response: TencentHttpResponse;
  try {
    response = await handleTencent(
      {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        header: (name) => headerOf(req, name),
        // Read with Tencent's own limit: an oversize body is answered in Tencent's envelope.
        readBody: (max) => (req.method === "GET" || req.method === "HEAD" ? Promise.resolve(Buffer.alloc(0)) : readBody(req, max)),
      },
      tencentDeps(rt, null),
    );
  } catch (err) {
    const r = replyForError(err);
    return send(res, r.status, JSON.stringify(r.body), { "content-type": "application/json" });
  }
  send(res, response.status, response.body, response.headers);
}

export async function serveCreateCall(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: Reply;
  const headers = { get: (name: string) => headerOf(req, name) };
  try {
    authorizeRequest(rt, headers);
    const max = maxCallBodyBytes(rt);
    checkJsonHeaders(headers.get("content-type"), headers.get("content-length"), max);
    const body = await readBody(req, max);
    if (!body) throw tooLarge(max);
    const input = parse(createCallSchema, parseJsonText(body.toString("utf8")));
    reply = await makeCall(rt, input);
  } catch (err) {
    reply = replyForError(err);
  }
  send(res, reply.status, JSON.stringify(reply.body), { "content-type": "application/json", "cache-control": "no-store" });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
}

/** The request body, or null (the rest drained) once it passes `maxBytes`. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (total > maxBytes) {
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
