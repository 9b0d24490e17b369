import { z } from "zod";
import { fromZod, HttpError } from "./errors";
import type { HttpRequest } from "./types";

/** Bodies of requests other than a call (device ids, key names, sign-in) are small. */
export const SMALL_BODY_BYTES = 4096;

export function parse<T extends z.ZodType>(schema: T, input: unknown, where?: string): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}

/**
 * A JSON body no larger than maxBytes, with a clear error for each way it can be wrong.
 * `tooLarge` says what is over a limit, in the caller's terms (a call's says its payload limit).
 */
export async function readJson(
  req: HttpRequest,
  maxBytes = SMALL_BODY_BYTES,
  tooLarge = (): Error => new HttpError("payload_too_large", `the request body is over ${maxBytes} bytes`),
): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.header("content-type") ?? "")) {
    throw new HttpError("unsupported_media_type", "send the body as application/json");
  }
  if (Number(req.header("content-length") ?? "NaN") > maxBytes) throw tooLarge();
  const body = await req.body(maxBytes);
  if (!body) throw tooLarge();
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError("invalid_request", "the body is not valid JSON", [{ field: "(body)", message: "not valid JSON" }]);
  }
}

/** The query string as an object of its parameters (the last value of a repeated one). */
export const queryObject = (req: HttpRequest): Record<string, string> => Object.fromEntries(req.query);
