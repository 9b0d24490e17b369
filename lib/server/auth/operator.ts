import { DomainError } from "../core/errors";
import { log } from "../core/log";
import { sessionUser, SESSION_TTL_MS, type CallerAuth } from "./callers";
import { verifyPassword, type TokenSigner } from "./tokens";

export type Operator = { user: string; passwordHash: string };

/** Whether sign-in is required and who is signed in. */
export function sessionInfo(auth: CallerAuth, cookieHeader: string | null) {
  return { required: auth.operator !== null, user: sessionUser(auth, cookieHeader) };
}

/** Checks the operator's password (scrypt); the answer is a session token valid SESSION_TTL_MS. */
export function signIn(operator: Operator | null, sessions: TokenSigner, user: string, password: string): { user: string; token: string } {
  if (!operator) {
    throw new DomainError("sign_in_disabled", "sign-in is not enabled: this hub listens on loopback only and has no operator configured");
  }
  if (!(user === operator.user && verifyPassword(password, operator.passwordHash))) {
    log.warn("operator sign-in failed", { user });
    throw new DomainError("bad_credentials", "wrong user name or password");
  }
  return { user, token: sessions.sign(user, SESSION_TTL_MS).token };
}
