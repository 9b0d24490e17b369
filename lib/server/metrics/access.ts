import { createHash, timingSafeEqual } from "node:crypto";
import { identifyCaller, type CallerAuth } from "../auth/callers";
import { DomainError } from "../core/errors";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Compares in constant time, whatever the lengths (both sides are hashed first). */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Who may read GET /metrics: whoever may use the API (an API key, an operator session, anyone
 * while sign-in is off), or a scraper with `Authorization: Bearer <RRPC_METRICS_TOKEN>`. A
 * bearer token that is wrong, or sent when none is configured, is refused even with sign-in off.
 */
export async function authorizeScrape(auth: CallerAuth, metricsToken: string | undefined, header: (name: string) => string | null): Promise<void> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header("authorization") ?? "");
  if (bearer) {
    if (metricsToken !== undefined && sameToken(bearer[1]!, metricsToken)) return;
    throw new DomainError("bad_credentials", "invalid metrics token: send Authorization: Bearer <RRPC_METRICS_TOKEN>, or an API key");
  }
  await identifyCaller(auth, header);
}
