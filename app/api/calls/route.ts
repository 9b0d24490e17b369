import { createCall, listCalls, maxBodyBytes } from "@/lib/server/http/api";
import { parse, readJson, route } from "@/lib/server/http/http";
import { createCallSchema, listCallsSchema } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

export const POST = route(async (req: Request) => {
  const input = parse(createCallSchema, await readJson(req, await maxBodyBytes()));
  return createCall(input);
});

export const GET = route(async (req: Request) => {
  const q = parse(listCallsSchema, Object.fromEntries(new URL(req.url).searchParams), "query");
  return Response.json(await listCalls(q));
});
