import { DomainError } from "../core/errors";
import { log } from "../core/log";
import { sessionIdOf, sessionUser, SESSION_TTL_MS, type CallerAuth } from "./callers";
import type { Role } from "./roles";
import { Throttle } from "./throttle";
import { verifyPassword, type TokenSigner } from "./tokens";
import type { Users } from "./users";

export type Operator = { user: string; passwordHash: string };

/** Whether sign-in is required, who is signed in and their role (admin while sign-in is off: the local caller may do everything). */
export async function sessionInfo(
  auth: CallerAuth,
  cookieHeader: string | null,
): Promise<{ required: boolean; user: string | null; role: Role | null }> {
  if (!auth.operator) return { required: false, user: null, role: "admin" };
  const user = await sessionUser(auth, cookieHeader);
  return { required: true, user: user?.name ?? null, role: user?.role ?? null };
}

/** Signing out: the cookie's session ends on the server, so a copy of the cookie stops working too. */
export async function signOut(auth: CallerAuth & { users: Pick<Users, "endSession"> }, cookieHeader: string | null): Promise<void> {
  const id = sessionIdOf(auth, cookieHeader);
  if (id) await auth.users.endSession(id);
}

/** Password checks at once: each holds a thread of libuv's pool (and 32 MiB) for tens of ms. */
const MAX_CHECKS_AT_ONCE = 2;

/**
 * Users' sign-in (table users; the configured operator is its first admin). The password is
 * checked with scrypt off the event loop; an unknown or disabled user name costs the same
 * hashing as a known one (no enumeration by timing); failures slow down further attempts per
 * user name and per address (Throttle); few checks run at once. A session is a row of table
 * sessions, its id signed into the cookie.
 */
export class OperatorSignIn {
  private checking = 0;

  constructor(
    private readonly operator: Operator | null,
    private readonly sessions: TokenSigner,
    private readonly users: Pick<Users, "passwordHashOf" | "startSession" | "sessionUser">,
    private readonly throttle = new Throttle(),
  ) {}

  /** A session token valid SESSION_TTL_MS, or a DomainError: sign_in_disabled, throttled, bad_credentials. */
  async signIn(user: string, password: string, address: string): Promise<{ user: string; role: Role; token: string }> {
    const op = this.operator;
    if (!op) {
      throw new DomainError("sign_in_disabled", "sign-in is not enabled: this hub listens on loopback only and has no operator configured");
    }
    const keys = [`user:${user.toLowerCase()}`, `address:${address}`];
    const wait = this.throttle.waitMs(keys);
    if (wait > 0) throw new DomainError("throttled", "too many failed sign-ins; wait before trying again", undefined, wait);
    if (this.checking >= MAX_CHECKS_AT_ONCE) throw new DomainError("throttled", "too many sign-ins at once; try again", undefined, 1000);
    this.checking++;
    let stored: { name: string; hash: string } | null = null;
    let good: boolean;
    try {
      stored = await this.users.passwordHashOf(user);
      // An unknown user is checked against the operator's hash: the same work, and always false.
      good = (await verifyPassword(password, stored?.hash ?? op.passwordHash)) && stored !== null;
    } finally {
      this.checking--;
    }
    if (!good) {
      this.throttle.fail(keys);
      log.warn("operator sign-in failed", { user: user.slice(0, 200), address });
      throw new DomainError("bad_credentials", "wrong user name or password");
    }
    this.throttle.succeed(keys);
    const session = await this.users.startSession(stored!.name, SESSION_TTL_MS);
    const now = await this.users.sessionUser(session.id);
    if (!now) throw new DomainError("bad_credentials", "wrong user name or password");
    return { user: now.name, role: now.role, token: this.sessions.sign(session.id, SESSION_TTL_MS).token };
  }
}
