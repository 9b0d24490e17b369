import type { IncomingMessage, ServerResponse } from "node:http";
import { identifyCaller, roleOf, sessionUser } from "../auth/callers";
import { requireRole } from "../auth/roles";
import { hostAllowed, originAuthority } from "../auth/hosts";
import { log } from "../core/log";
import type { Runtime } from "../runtime/runtime";
import { errorResponse, responseForError } from "./errors";
import { matchRoute, type Route } from "./router";
import { ROUTES } from "./routes";
import type { HttpRequest, HttpResponse } from "./types";

/** What serves the dashboard's pages (Next.js's request handler, or nothing in API-only tests). */
export type PageHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Pages and files anyone may load: the sign-in page and what it needs (its icons and the web app manifest). */
const OPEN_PAGES = /^\/(login\/?$|_next\/|icon\.svg$|favicon\.ico$|manifest\.webmanifest$|apple-touch-icon\.png$|icon-(192|512|maskable-512)\.png$)/;

/**
 * The one door of the HTTP server: API operations (ROUTES) are answered here; every other
 * request is a page for Next.js, after the sign-in check when sign-in is on.
 */
export function createRequestListener(rt: Runtime, pages: PageHandler, routes: readonly Route[] = ROUTES) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const request = fromNode(req);
    const refused = admission(rt, request);
    if (refused) {
      write(res, refused, false);
      return;
    }
    const match =
      request.path.startsWith("/api/") || request.path === "/metrics" || req.headers["x-tc-action"] !== undefined
        ? matchRoute(routes, request)
        : null;
    if (match) {
      void answer(rt, request, match).then((r) => write(res, r, request.method === "HEAD"));
      return;
    }
    if (request.path.startsWith("/api/")) {
      write(res, errorResponse("not_found", `no API operation ${request.path}`), false);
      return;
    }
    void (async () => {
      if (rt.config.operator && !OPEN_PAGES.test(request.path) && !(await sessionUser(rt.callerAuth, request.header("cookie")))) {
        const back = pagePath(request);
        const next = back === "/" ? "" : `?next=${encodeURIComponent(back)}`;
        write(res, { status: 303, headers: { location: `/login${next}`, "cache-control": "no-store" } }, false);
        return;
      }
      await pages(req, res);
    })().catch((err: unknown) => {
      log.error("page handler failed", { error: (err as Error)?.stack ?? String(err) });
      if (!res.headersSent) write(res, errorResponse("internal_error", "internal error"), false);
    });
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Before anything else: the Host must be one this hub answers (auth/hosts.ts: DNS rebinding),
 * and a browser's state-changing request must come from this very origin.
 */
function admission(rt: Runtime, req: HttpRequest): HttpResponse | null {
  const host = req.header("host");
  if (!hostAllowed(host, rt.config.allowedHosts)) {
    return errorResponse("misdirected_request", "this hub does not answer for that host name; add it to RRPC_ALLOWED_HOSTS");
  }
  const origin = req.header("origin");
  // "null" (a sandboxed frame, a file) is never this origin.
  if (!SAFE_METHODS.has(req.method) && origin !== null && originAuthority(origin) !== host) {
    return errorResponse("forbidden", "cross-origin requests that change state are refused");
  }
  return null;
}

/** Where to come back after signing in: the page, without Next.js's router parameter. */
function pagePath(req: HttpRequest): string {
  const q = new URLSearchParams(req.query);
  q.delete("_rsc");
  const search = q.toString();
  return search ? `${req.path}?${search}` : req.path;
}

async function answer(rt: Runtime, req: HttpRequest, match: NonNullable<ReturnType<typeof matchRoute>>): Promise<HttpResponse> {
  try {
    if ("allowed" in match) {
      return errorResponse("method_not_allowed", `${req.method} is not allowed here; use ${match.allowed.join(", ")}`, undefined, undefined, {
        allow: match.allowed.join(", "),
      });
    }
    const access = match.route.access;
    const caller = access === "public" ? { kind: "anonymous" as const } : await identifyCaller(rt.callerAuth, req.header);
    if (access !== "public") requireRole(roleOf(caller), access);
    return await match.route.handle(req, { rt, caller, params: match.params });
  } catch (err) {
    return responseForError(err);
  }
}

export function fromNode(req: IncomingMessage): HttpRequest {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const header = (name: string): string | null => {
    const v = req.headers[name];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  };
  let query: URLSearchParams | undefined;
  return {
    method: req.method ?? "GET",
    url,
    path: q < 0 ? url : url.slice(0, q),
    // Parsed when a handler asks: POST /api/calls never does.
    get query() {
      return (query ??= new URLSearchParams(q < 0 ? "" : url.slice(q + 1)));
    },
    header,
    body: (maxBytes) => readBody(req, maxBytes),
    secure: (req.socket as { encrypted?: boolean }).encrypted === true || header("x-forwarded-proto") === "https",
    remoteAddress: req.socket.remoteAddress ?? "",
  };
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

function write(res: ServerResponse, r: HttpResponse, head: boolean): void {
  const body = r.body;
  if (body === undefined || typeof body === "string" || Buffer.isBuffer(body)) {
    const length = body === undefined ? 0 : Buffer.byteLength(body);
    res.writeHead(r.status, { ...r.headers, ...(r.status === 204 ? {} : { "content-length": String(length) }) });
    res.end(head ? undefined : body);
    return;
  }
  res.writeHead(r.status, r.headers);
  if (head) return void res.end();
  void stream(res, body);
}

/** Resolves once `res` drains or closes, leaving no listener behind (a long answer waits thousands of times). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

/** Writes a produced body with backpressure; a failure midway ends the connection (the status is already sent). */
async function stream(res: ServerResponse, body: AsyncIterable<string>): Promise<void> {
  try {
    for await (const chunk of body) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
    res.end();
  } catch (err) {
    log.error("streaming an answer failed", { error: (err as Error)?.stack ?? String(err) });
    res.destroy(err as Error);
  }
}
