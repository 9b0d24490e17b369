/**
 * A broker-shaped client of the HTTP hooks: requests as EMQX 5's HTTP authenticator and HTTP
 * authorizer send them, with the body templates of docs/scale-out.md.
 */

/** The body templates of the EMQX configuration in docs/scale-out.md. */
export const EMQX_AUTHN_BODY = { clientid: "${clientid}", username: "${username}", password: "${password}" };
export const EMQX_AUTHZ_BODY = { clientid: "${clientid}", username: "${username}", topic: "${topic}", action: "${action}", retain: "${retain}" };

/** A template rendered as EMQX renders it: each placeholder replaced, a missing value as "". */
export function renderTemplate(template: Record<string, string>, vars: Record<string, string | undefined>): string {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(template)) out[k] = v.replace(/\$\{(\w+)\}/g, (_m, name: string) => vars[name] ?? "");
  return JSON.stringify(out);
}

export type HookAnswer = { status: number; text: string; result: string | null; expireAt: number | null };

/** POST /api/broker/{hook} with `Authorization: Bearer <secret>` (null: no header). */
export async function postHook(
  hubUrl: string,
  hook: "authn" | "authz",
  body: string,
  secret: string | null,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<HookAnswer> {
  const r = await fetch(`${hubUrl}/api/broker/${hook}`, {
    method: "POST",
    headers: { ...(secret === null ? {} : { authorization: `Bearer ${secret}` }), ...headers },
    body,
  });
  const text = await r.text();
  const parsed = r.status === 200 ? (JSON.parse(text) as { result: string; expire_at?: number }) : null;
  return { status: r.status, text, result: parsed?.result ?? null, expireAt: parsed?.expire_at ?? null };
}
