import { DomainError } from "../core/errors";
import type { CallCaller } from "../../rrpc/types";
import { safeEqual, type TokenSigner } from "./tokens";
import type { Role } from "./roles";
import type { Users } from "./users";

export const SESSION_COOKIE = "rrpc_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Who is calling. "anonymous" is let through only while sign-in is off, and may then do
 * everything (the local caller); a user and an API key act with their role.
 */
export type Caller = { kind: "anonymous" } | { kind: "operator"; user: string; role: Role } | { kind: "apikey"; secretId: string; role: Role };

/** What a caller may do: an anonymous caller exists only while sign-in is off, and may do everything. */
export const roleOf = (c: Caller): Role => (c.kind === "anonymous" ? "admin" : c.role);

/** What identifying a caller needs: the API keys, the session signer, the users and their sessions, and the configured operator (sign-in on). */
export type CallerAuth = {
  keys: {
    secretFor(secretId: string): Promise<string | null>;
    roleOf(secretId: string): Promise<Role | null>;
    markApiKeyUsed(secretId: string): Promise<void>;
  };
  sessions: TokenSigner;
  users: Pick<Users, "sessionUser">;
  operator: { user: string } | null;
};

/** Who made a call, as the call records it; an API key by its name when it has one. */
export async function callCaller(c: Caller, keyName: (secretId: string) => Promise<string | null>): Promise<CallCaller> {
  if (c.kind === "operator") return { kind: "operator", id: c.user, name: c.user };
  if (c.kind === "apikey") return { kind: "api_key", id: c.secretId, name: (await keyName(c.secretId)) ?? c.secretId };
  return { kind: "local", id: "local", name: "local (sign-in off)" };
}

/** Who a caller is, in a word for records (a batch's createdBy). */
export function callerLabel(c: Caller): string {
  return c.kind === "operator" ? `operator:${c.user}` : c.kind === "apikey" ? `api_key:${c.secretId}` : "local";
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The id of the session a cookie carries (signed, unexpired), or null; whether it is still live is for the users table. */
export function sessionIdOf(auth: Pick<CallerAuth, "sessions">, cookieHeader: string | null): string | null {
  return auth.sessions.verify(readCookie(cookieHeader, SESSION_COOKIE));
}

/** The user a session cookie belongs to and their current role, or null (no cookie, signed out, user removed or disabled). */
export async function sessionUser(auth: CallerAuth, cookieHeader: string | null): Promise<{ name: string; role: Role } | null> {
  if (!auth.operator) return null;
  const id = sessionIdOf(auth, cookieHeader);
  return id ? auth.users.sessionUser(id) : null;
}

/**
 * Who is calling: an API key (HTTP Basic `SecretId:SecretKey`), a signed-in operator, or
 * nobody. Nobody is let through only while sign-in is off (loopback-only, no operator
 * configured); a wrong key is refused even then.
 */
export async function identifyCaller(auth: CallerAuth, header: (name: string) => string | null): Promise<Caller> {
  const authorization = header("authorization");
  if (authorization) {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
    const decoded = m ? Buffer.from(m[1]!, "base64").toString("utf8") : "";
    const i = decoded.indexOf(":");
    const secretId = i > 0 ? decoded.slice(0, i) : "";
    const key = secretId ? await auth.keys.secretFor(secretId) : null;
    if (!key || !safeEqual(decoded.slice(i + 1), key)) {
      throw new DomainError("bad_credentials", "invalid API key: send Authorization: Basic base64(SecretId:SecretKey)");
    }
    const role = (await auth.keys.roleOf(secretId)) ?? "viewer";
    await auth.keys.markApiKeyUsed(secretId);
    return { kind: "apikey", secretId, role };
  }
  const user = await sessionUser(auth, header("cookie"));
  if (user) return { kind: "operator", user: user.name, role: user.role };
  if (!auth.operator) return { kind: "anonymous" };
  throw new DomainError("unauthenticated", "sign in, or send an API key: Authorization: Basic base64(SecretId:SecretKey)");
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
