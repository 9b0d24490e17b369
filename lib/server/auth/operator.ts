import { DomainError } from "../core/errors";
import { log } from "../core/log";
import { sessionUser, SESSION_TTL_MS, type CallerAuth } from "./callers";
import { Throttle } from "./throttle";
import { verifyPassword, type TokenSigner } from "./tokens";

export type Operator = { user: string; passwordHash: string };

/** Whether sign-in is required and who is signed in. */
export function sessionInfo(auth: CallerAuth, cookieHeader: string | null) {
  return { required: auth.operator !== null, user: sessionUser(auth, cookieHeader) };
}

/** Password checks at once: each holds a thread of libuv's pool (and 32 MiB) for tens of ms. */
const MAX_CHECKS_AT_ONCE = 2;

/**
 * The operator's sign-in. The password is checked with scrypt off the event loop; an unknown
 * user name costs the same hashing as a known one (no enumeration by timing); failures slow
 * down further attempts per user name and per address (Throttle); few checks run at once.
 */
export class OperatorSignIn {
  private checking = 0;

  constructor(
    private readonly operator: Operator | null,
    private readonly sessions: TokenSigner,
    private readonly throttle = new Throttle(),
  ) {}

  /** A session token valid SESSION_TTL_MS, or a DomainError: sign_in_disabled, throttled, bad_credentials. */
  async signIn(user: string, password: string, address: string): Promise<{ user: string; token: string }> {
    const op = this.operator;
    if (!op) {
      throw new DomainError("sign_in_disabled", "sign-in is not enabled: this hub listens on loopback only and has no operator configured");
    }
    const keys = [`user:${user.toLowerCase()}`, `address:${address}`];
    const wait = this.throttle.waitMs(keys);
    if (wait > 0) throw new DomainError("throttled", "too many failed sign-ins; wait before trying again", undefined, wait);
    if (this.checking >= MAX_CHECKS_AT_ONCE) throw new DomainError("throttled", "too many sign-ins at once; try again", undefined, 1000);
    this.checking++;
    let good: boolean;
    try {
      good = (await verifyPassword(password, op.passwordHash)) && user === op.user;
    } finally {
      this.checking--;
    }
    if (!good) {
      this.throttle.fail(keys);
      log.warn("operator sign-in failed", { user: user.slice(0, 200), address });
      throw new DomainError("bad_credentials", "wrong user name or password");
    }
    this.throttle.succeed(keys);
    return { user, token: this.sessions.sign(user, SESSION_TTL_MS).token };
  }
}
