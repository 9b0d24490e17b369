import type { HttpRequest } from "../http/types";

/** An HttpRequest from plain values, for calling handlers directly. */
export function plainRequest(method: string, url: string, headers: Record<string, string>, body: Buffer | string = ""): HttpRequest {
  const q = url.indexOf("?");
  const bytes = Buffer.from(body);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    url,
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? "" : url.slice(q + 1)),
    header: (name) => lower[name.toLowerCase()] ?? null,
    body: async (max) => (bytes.length > max ? null : bytes),
    secure: false,
    remoteAddress: "127.0.0.1",
  };
}
