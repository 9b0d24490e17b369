import type { IncomingMessage, ServerResponse } from "node:http";
import { createCallSchema } from "../rrpc/schemas";
import { authorizeRequest } from "./auth/request-auth";
import { makeCall, maxCallBodyBytes, tencentCall } from "./calls";
import { Readable } from "node:stream";
import { checkJsonHeaders, parse, parseJsonText, replyForError, tooLarge, type Reply } from "./http";
import type { Runtime } from "./runtime";

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
  let response: Response;
  try {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    // The body stays a stream: the Tencent handler reads it with its own limit and answers an
    // oversize body in Tencent's envelope, like everything else.
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
    const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, { method: req.method, headers, body, duplex: "half" } as RequestInit);
    response = await tencentCall(rt, request, null);
  } catch (err) {
    const r = replyForError(err);
    response = Response.json(r.body, { status: r.status });
  }
  const text = await response.text();
  res.writeHead(response.status, { "content-type": response.headers.get("content-type") ?? "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function serveCreateCall(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: Reply;
  const headers = { get: (name: string) => headerOf(req, name) };
  try {
    authorizeRequest(rt, headers);
    const max = maxCallBodyBytes(rt);
    checkJsonHeaders(headers.get("content-type"), headers.get("content-length"), max);
    const input = parse(createCallSchema, parseJsonText(await readBody(req, max)));
    reply = await makeCall(rt, input);
  } catch (err) {
    reply = replyForError(err);
  }
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (total > maxBytes) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(maxBytes));
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
