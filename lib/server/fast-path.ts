import type { IncomingMessage, ServerResponse } from "node:http";
import { createCallSchema } from "../rrpc/schemas";
import { authorizeRequest } from "./auth/request-auth";
import { makeCall, maxCallBodyBytes } from "./calls";
import { checkJsonHeaders, parse, parseJsonText, replyForError, tooLarge, type Reply } from "./http";
import type { Runtime } from "./runtime";

/**
 * `POST /api/calls` served straight from node:http, skipping Next.js's request pipeline: that
 * pipeline cost ~90% of the time of a call through the API (npm run bench: ~0.1× a bare
 * node:http server making the same engine call). The logic is the route handler's: the same
 * auth, schema, call and error path; only the transport differs.
 */
export function isCreateCall(req: IncomingMessage): boolean {
  return req.method === "POST" && (req.url === "/api/calls" || req.url === "/api/calls/");
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
