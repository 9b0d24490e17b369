import { revokeApiKey } from "@/lib/server/http/api";
import { parse, route } from "@/lib/server/http/http";
import { z } from "zod";

export const dynamic = "force-dynamic";

const params = z.object({ secretId: z.string().min(1).max(200) });

/** Revokes the key: it stops working at once and cannot be restored. */
export const DELETE = route(async (_req: Request, ctx: { params: Promise<{ secretId: string }> }) => {
  const { secretId } = parse(params, await ctx.params);
  return Response.json(await revokeApiKey(secretId));
});
