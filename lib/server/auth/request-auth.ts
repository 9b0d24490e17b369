import type { Runtime } from "../runtime/runtime";
import { ApiError } from "../core/errors";
import { safeEqual } from "./tokens";

export const SESSION_COOKIE = "rrpc_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type Caller = { kind: "anonymous" } | { kind: "operator"; user: string } | { kind: "apikey"; secretId: string };

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return null;
}

/** The operator a session cookie belongs to, or null. */
export function sessionUser(rt: Runtime, cookieValue: string | null | undefined): string | null {
  const user = rt.sessions.verify(cookieValue);
  return user && rt.config.operator && user === rt.config.operator.user ? user : null;
}

/**
 * Who is calling: an API key (HTTP Basic `SecretId:SecretKey`), a signed-in operator, or
 * nobody. Nobody is let through only while sign-in is off (loopback-only, no operator
 * configured); a wrong key is refused even then.
 */
export function authorizeRequest(rt: Runtime, headers: { get(name: string): string | null }): Caller {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth.trim());
    const decoded = m ? Buffer.from(m[1]!, "base64").toString("utf8") : "";
    const i = decoded.indexOf(":");
    const secretId = i > 0 ? decoded.slice(0, i) : "";
    const key = secretId ? rt.registry.secretFor(secretId) : null;
    if (!key || !safeEqual(decoded.slice(i + 1), key)) {
      throw new ApiError("unauthorized", "invalid API key: send Authorization: Basic base64(SecretId:SecretKey)");
    }
    rt.registry.markApiKeyUsed(secretId);
    return { kind: "apikey", secretId };
  }
  const user = sessionUser(rt, readCookie(headers.get("cookie"), SESSION_COOKIE));
  if (user) return { kind: "operator", user };
  if (!rt.config.operator) return { kind: "anonymous" };
  throw new ApiError("unauthorized", "sign in, or send an API key: Authorization: Basic base64(SecretId:SecretKey)");
}

export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
