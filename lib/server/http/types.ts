/** One HTTP request as every handler sees it, whatever server carried it. */
export type HttpRequest = {
  method: string;
  /** The request target as received (path and query). */
  url: string;
  path: string;
  query: URLSearchParams;
  /** A header's value; repeated headers joined with ", ". */
  header(name: string): string | null;
  /** The body, or null once it passes `maxBytes` (the rest is discarded). */
  body(maxBytes: number): Promise<Buffer | null>;
  /** The connection or a proxy in front says HTTPS (cookies get Secure). */
  secure: boolean;
  /** The peer's address (of the connection, not a header anyone can set). */
  remoteAddress: string;
};

/** One HTTP answer before it is written. A stream body is written as it is produced. */
export type HttpResponse = {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | AsyncIterable<string>;
};

/** A Promise is not a body: the type refuses one, so that a forgotten `await` on the store cannot answer `{}`. */
export function json<T>(status: number, body: T extends PromiseLike<unknown> ? never : T, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers }, body: JSON.stringify(body) };
}

/** JSON text produced while it is written (history pages), with json()'s headers. */
export function jsonStream(status: number, body: AsyncIterable<string>): HttpResponse {
  return { status, headers: { "content-type": "application/json", "cache-control": "no-store" }, body };
}

export const noContent = (headers?: Record<string, string>): HttpResponse => ({ status: 204, headers });

/** A download: CSV or JSON written piece by piece, saved by the browser as `filename`. */
export function attachment(format: "csv" | "json", filename: string, body: AsyncIterable<string>): HttpResponse {
  return {
    status: 200,
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}.${format}"`,
      "cache-control": "no-store",
    },
    body,
  };
}
