import { createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

/**
 * Short-lived signed tokens (live-view MQTT credentials, operator sessions). Without a key, one
 * is made at start and nothing signed outlives the process (live credentials: a browser fetches
 * a new one); operator sessions are signed with a key kept in the database (runtime.ts), so a
 * restart signs nobody out.
 */
export class TokenSigner {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  /** `{payload}.{expiresAtMs}.{mac}`; payload must not contain '.' */
  sign(payload: string, ttlMs: number, now = Date.now()): { token: string; expiresAt: number } {
    const expiresAt = now + ttlMs;
    const body = `${payload}.${expiresAt}`;
    return { token: `${body}.${this.mac(body)}`, expiresAt };
  }

  /** The payload of a valid, unexpired token; null otherwise. */
  verify(token: string | undefined | null, now = Date.now()): string | null {
    return this.open(token, now)?.payload ?? null;
  }

  /** The payload and expiry (epoch ms) of a valid, unexpired token; null otherwise. */
  open(token: string | undefined | null, now = Date.now()): { payload: string; expiresAt: number } | null {
    if (!token) return null;
    const last = token.lastIndexOf(".");
    const mid = token.lastIndexOf(".", last - 1);
    if (last < 0 || mid < 0) return null;
    const body = token.slice(0, last);
    if (!safeEqual(token.slice(last + 1), this.mac(body))) return null;
    const exp = Number(token.slice(mid + 1, last));
    return Number.isFinite(exp) && exp > now ? { payload: token.slice(0, mid), expiresAt: exp } : null;
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// scrypt parameters: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 64-byte key.
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** `scrypt$N$r$p$salt$hash` (base64url), the form RRPC_OPERATOR_PASSWORD_HASH takes. */
export function hashPassword(password: string, salt = randomBytes(16)): string {
  const hash = scryptSync(password, salt, 64, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** hashPassword on libuv's thread pool, for the HTTP API (adding a user, a new password). */
export async function hashPasswordAsync(password: string, salt = randomBytes(16)): Promise<string> {
  const hash = await new Promise<Buffer>((resolve, reject) => scrypt(password, salt, 64, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/.test(s);
}

/**
 * Checks a password against its scrypt hash on libuv's thread pool: tens of milliseconds of
 * hashing must not stop the event loop that carries every call.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!isPasswordHash(stored)) return false;
  const [, n, r, p, salt, hash] = stored.split("$") as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, "base64url");
  const options = { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem };
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, "base64url"), expected.length, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
  return timingSafeEqual(actual, expected);
}
