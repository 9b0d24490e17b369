/**
 * Which Host names the hub answers. On loopback only, a web page whose name an attacker
 * re-binds to 127.0.0.1 (DNS rebinding) would otherwise reach the API with the operator's
 * browser; so, like Mosquitto's local-only mode, only loopback names and RRPC_ALLOWED_HOSTS
 * are served. `null` accepts any name (the hub is exposed, sign-in is on).
 */
export type HostPolicy = readonly string[] | null;

/** The name in a Host or Origin's authority, without the port (`[::1]:3000` → `::1`). */
export function hostnameOf(authority: string | null): string | null {
  if (!authority) return null;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(authority) ?? /^([^:]+)(?::\d+)?$/.exec(authority);
  return m ? m[1]!.toLowerCase() : null;
}

export function hostAllowed(authority: string | null, policy: HostPolicy): boolean {
  if (policy === null) return true;
  const name = hostnameOf(authority);
  return name !== null && (isLoopback(name) || name.endsWith(".localhost") || policy.includes(name));
}

/** The authority (`host:port`) of an Origin header, or null when it is absent or `null`. */
export function originAuthority(origin: string | null): string | null {
  if (!origin || origin === "null") return null;
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
