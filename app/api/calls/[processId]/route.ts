import { getCall } from "@/lib/server/http/api";
import { route, parse } from "@/lib/server/http/http";
import { processIdParam } from "@/lib/rrpc/schemas";
import { z } from "zod";

export const dynamic = "force-dynamic";

const params = z.object({ processId: processIdParam });

export const GET = route(async (_req: Request, ctx: { params: Promise<{ processId: string }> }) => {
  const { processId } = parse(params, await ctx.params);
  return Response.json(await getCall(processId));
});
