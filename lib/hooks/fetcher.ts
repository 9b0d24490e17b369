/** The API's error shape, thrown by every SWR fetcher and by postJson. */
export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

async function parse<T>(r: Response): Promise<T> {
  const body: unknown = await r.json().catch(() => null);
  if (!r.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiClientError(r.status, e?.code ?? "http_error", e?.message ?? `HTTP ${r.status}`, body);
  }
  return body as T;
}

export const fetcher = <T>(url: string): Promise<T> => fetch(url, { cache: "no-store" }).then((r) => parse<T>(r));

/** POST JSON; resolves with { status, body } whatever the status (a failed call still has a body). */
export async function postJson<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as T };
}
