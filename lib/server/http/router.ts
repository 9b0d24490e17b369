import type { Caller } from "../auth/callers";
import type { Access } from "../auth/roles";
import type { Runtime } from "../runtime/runtime";
import type { HttpRequest, HttpResponse } from "./types";

/**
 * Who may use a route: "public" answers anyone (health, the session itself, Tencent's API,
 * which checks its own signatures); a role ("viewer", "operator", "admin") needs an API key or
 * a user's session of at least that role whenever sign-in is on (401 without one, 403
 * `forbidden` naming the role below it). With sign-in off the local caller may do everything.
 * Each route's role is set once, in its entry of ROUTES (routes.ts): the one route→role table.
 */
export type { Access };

export type RouteContext = { rt: Runtime; caller: Caller; params: Record<string, string> };

export type Route = {
  method: string;
  /** Literal segments and `:name` parameters, e.g. `/api/calls/:processId`. */
  path: string;
  access: Access;
  /** A further condition on the request (Tencent's API shares `/` with the dashboard). */
  when?: (req: HttpRequest) => boolean;
  handle(req: HttpRequest, ctx: RouteContext): HttpResponse | Promise<HttpResponse>;
};

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | null;

/** The route for a request; `allowed` when the path exists for other methods only; null when it does not exist. */
export function matchRoute(routes: readonly Route[], req: HttpRequest): Match {
  const parts = req.path.replace(/\/+$/, "").split("/");
  const allowed: string[] = [];
  for (const route of routes) {
    if (route.when && !route.when(req)) continue;
    const params = matchPath(route.path, parts);
    if (!params) continue;
    if (route.method === req.method || (route.method === "GET" && req.method === "HEAD")) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : null;
}

/** Each route's path split into segments once, not on every request. */
const segmentsOf = new Map<string, string[]>();

function matchPath(pattern: string, parts: string[]): Record<string, string> | null {
  let want = segmentsOf.get(pattern);
  if (!want) segmentsOf.set(pattern, (want = pattern.replace(/\/+$/, "").split("/")));
  if (want.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const p = parts[i]!;
    if (w.startsWith(":")) {
      if (!p) return null;
      try {
        params[w.slice(1)] = decodeURIComponent(p);
      } catch {
        return null;
      }
    } else if (w !== p) return null;
  }
  return params;
}
