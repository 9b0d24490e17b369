import { z } from "zod";
import { ApiError } from "../core/errors";
import { log } from "../core/log";
import { getRuntime } from "../runtime/runtime";
import { authorizeRequest } from "../auth/request-auth";

export type ErrorBody = {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
  call?: unknown;
};

/** An answer before it is written: the same for Next.js route handlers and the node:http fast path. */
export type Reply = { status: number; body: unknown };

export function errorReply(err: ApiError, call?: unknown): Reply {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.fields?.length) body.error.fields = err.fields;
  if (call !== undefined) body.call = call;
  return { status: err.status, body };
}

/** The one error path: known errors keep their code, anything else is a 500 that is logged. */
export function replyForError(err: unknown): Reply {
  if (ApiError.is(err)) return errorReply(err);
  if (err instanceof z.ZodError) return errorReply(fromZod(err));
  log.error("unhandled error in route", { error: (err as Error)?.stack ?? String(err) });
  return errorReply(new ApiError("internal_error", "internal error"));
}

export const toResponse = (r: Reply): Response => Response.json(r.body, { status: r.status });

export function fromZod(err: z.ZodError, where = ""): ApiError {
  const fields = err.issues.map((i) => ({
    field: [where, ...i.path.map(String)].filter(Boolean).join(".") || "(body)",
    message: i.message,
  }));
  return new ApiError("invalid_request", fields.map((f) => `${f.field}: ${f.message}`).join("; "), fields);
}

/**
 * Every route: an authorised caller (see authorizeRequest) unless it is public, and the one
 * error path.
 */
export function route<A extends [Request, ...unknown[]]>(handler: (...args: A) => Promise<Response>, opts: { public?: boolean } = {}) {
  return async (...args: A): Promise<Response> => {
    try {
      if (!opts.public) authorizeRequest(await getRuntime(), args[0].headers);
      return await handler(...args);
    } catch (err) {
      return toResponse(replyForError(err));
    }
  };
}

export function parse<T extends z.ZodType>(schema: T, input: unknown, where?: string): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}

/** Checks a JSON body's declared type and size before it is read. */
export function checkJsonHeaders(contentType: string | null, contentLength: string | null, maxBytes: number): void {
  if (!/^application\/json\b/i.test(contentType ?? "")) {
    throw new ApiError("unsupported_media_type", "send the body as application/json");
  }
  if (Number(contentLength ?? "NaN") > maxBytes) throw new ApiError("payload_too_large", `request body is over ${maxBytes} bytes`);
}

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError("payload_too_large", `request body is over ${maxBytes} bytes`);
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "the body is not valid JSON", [{ field: "(body)", message: "not valid JSON" }]);
  }
}

/** Reads a JSON body no larger than maxBytes, with clear errors for each way it can be wrong. */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  checkJsonHeaders(req.headers.get("content-type"), req.headers.get("content-length"), maxBytes);
  return parseJsonText(await readLimited(req, maxBytes));
}

async function readLimited(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
