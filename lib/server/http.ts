import { z } from "zod";
import { ApiError } from "./errors";
import { log } from "./log";
import { getRuntime } from "./runtime";
import { authorizeRequest } from "./auth/request-auth";

export type ErrorBody = {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
  call?: unknown;
};

export function errorResponse(err: ApiError, call?: unknown): Response {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.fields?.length) body.error.fields = err.fields;
  if (call !== undefined) body.call = call;
  return Response.json(body, { status: err.status });
}

export function fromZod(err: z.ZodError, where = ""): ApiError {
  const fields = err.issues.map((i) => ({
    field: [where, ...i.path.map(String)].filter(Boolean).join(".") || "(body)",
    message: i.message,
  }));
  return new ApiError("invalid_request", fields.map((f) => `${f.field}: ${f.message}`).join("; "), fields);
}

/**
 * The one error path of every route: known errors keep their code, anything else is a 500 that
 * is logged. Every route needs an authorised caller (see authorizeRequest) unless it is public.
 */
export function route<A extends [Request, ...unknown[]]>(handler: (...args: A) => Promise<Response>, opts: { public?: boolean } = {}) {
  return async (...args: A): Promise<Response> => {
    try {
      if (!opts.public) authorizeRequest(await getRuntime(), args[0]);
      return await handler(...args);
    } catch (err) {
      if (ApiError.is(err)) return errorResponse(err);
      if (err instanceof z.ZodError) return errorResponse(fromZod(err));
      log.error("unhandled error in route", { error: (err as Error)?.stack ?? String(err) });
      return errorResponse(new ApiError("internal_error", "internal error"));
    }
  };
}

export function parse<T extends z.ZodType>(schema: T, input: unknown, where?: string): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}

/** Reads a JSON body no larger than maxBytes, with clear errors for each way it can be wrong. */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError("unsupported_media_type", "send the body as application/json");
  }
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) throw new ApiError("payload_too_large", `request body is over ${maxBytes} bytes`);
  const text = await readLimited(req, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "the body is not valid JSON", [{ field: "(body)", message: "not valid JSON" }]);
  }
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
      throw new ApiError("payload_too_large", `request body is over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
