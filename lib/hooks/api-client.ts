/**
 * The browser's one way to talk to the hub's HTTP API: `api()` sends JSON, parses the answer and
 * throws an ApiClientError for anything but a 2xx JSON answer (or an empty 2xx, e.g. 204). The
 * shapes it returns are those of lib/rrpc/api.ts, shared with the server.
 */
import type { ApiErrorBody } from "../rrpc/api";
import type { FieldError } from "../rrpc/topics";
import type { CallJson } from "../rrpc/types";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Codes of failures that are not the API's own answers. */
export const NETWORK_ERROR = "network_error";
export const HTTP_ERROR = "http_error";
export const INVALID_RESPONSE = "invalid_response";
/** The caller stopped waiting (RequestOptions.signal). */
export const ABORTED = "aborted";

/**
 * A request that did not succeed. `status` is 0 when no answer came (network failure); `body`
 * is the API's error answer when it was one, else null; `call` is the call made, if any (a
 * device timeout, an offline device…).
 */
export class ApiClientError extends Error {
  override readonly name = "ApiClientError";
  /** Seconds to wait before trying again (a 429's Retry-After), when the answer said. */
  retryAfterS: number | null = null;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: ApiErrorBody | null = null,
  ) {
    super(message);
  }
  get fields(): FieldError[] | undefined {
    return this.body?.error.fields;
  }
  get call(): CallJson | undefined {
    return this.body?.call;
  }
}

export function isApiErrorBody(x: unknown): x is ApiErrorBody {
  if (typeof x !== "object" || x === null) return false;
  const e = (x as { error?: unknown }).error;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "string" &&
    typeof (e as { message?: unknown }).message === "string"
  );
}

/** The message to show an operator for any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type RequestOptions = {
  /**
   * On 401 `unauthorized`, send the browser to the sign-in page (default). The sign-in form
   * turns it off: there a 401 means a wrong password.
   */
  redirectOnUnauthorized?: boolean;
  /** Stops waiting for the answer (the request may still have its effect on the server). */
  signal?: AbortSignal;
};

/**
 * Sends `body` as JSON (when given) and resolves with the parsed answer; an empty 2xx answer
 * (204) resolves with undefined. Throws ApiClientError on a network failure, a non-2xx status,
 * or an answer that is not JSON.
 */
export async function api<T>(method: Method, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  let r: Response;
  try {
    r = await fetch(path, {
      method,
      cache: "no-store",
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw new ApiClientError(0, ABORTED, "stopped waiting for the answer");
    throw new ApiClientError(0, NETWORK_ERROR, `cannot reach the hub: ${errorMessage(e)}`);
  }

  let text: string;
  try {
    text = await r.text();
  } catch (e) {
    if (opts.signal?.aborted) throw new ApiClientError(0, ABORTED, "stopped waiting for the answer");
    throw new ApiClientError(r.status, NETWORK_ERROR, `the answer was cut off: ${errorMessage(e)}`);
  }
  let parsed: unknown = undefined;
  let json = text.length > 0;
  if (json) {
    try {
      parsed = JSON.parse(text);
    } catch {
      json = false;
    }
  }

  if (r.ok) {
    if (r.status === 204 || text.length === 0) return undefined as T;
    if (!json) throw new ApiClientError(r.status, INVALID_RESPONSE, `HTTP ${r.status}: the answer is not JSON`);
    return parsed as T;
  }

  const err = isApiErrorBody(parsed)
    ? new ApiClientError(r.status, parsed.error.code, parsed.error.message, parsed)
    : new ApiClientError(r.status, HTTP_ERROR, `HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ""}`);
  const retryAfter = Number(r.headers.get("retry-after") ?? NaN);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) err.retryAfterS = retryAfter;
  if (r.status === 401 && err.code === "unauthorized" && opts.redirectOnUnauthorized !== false) toSignIn();
  throw err;
}

/** The SWR fetcher: GET the key. */
export const swrFetcher = <T>(path: string): Promise<T> => api<T>("GET", path);

export const LOGIN_PATH = "/login";

/** The sign-in page, coming back to `next` (a path with its query) afterwards. */
export function loginUrl(next: string): string {
  return next === "/" ? LOGIN_PATH : `${LOGIN_PATH}?next=${encodeURIComponent(next)}`;
}

/**
 * The session is gone (expired, server restarted…): sign in again, then come back here. A full
 * page load, so nothing of the old session (caches, the live connection) survives.
 */
function toSignIn() {
  if (typeof window === "undefined") return;
  const { pathname, search } = window.location;
  if (pathname === LOGIN_PATH) return;
  window.location.assign(loginUrl(pathname + search));
}

/**
 * Where to go after signing in: `next` when it is a path on this site ("/…", not "//…" nor
 * "/\…", which browsers read as another host), else "/".
 */
export function safeNext(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  try {
    const u = new URL(next, origin);
    if (u.origin !== origin || u.pathname === LOGIN_PATH) return "/";
    return u.pathname + u.search + u.hash;
  } catch {
    return "/";
  }
}
