import { deviceConnectInfo } from "@/lib/server/http/api";
import { parse, route } from "@/lib/server/http/http";
import { deviceParams } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

export const GET = route(async (_req: Request, ctx: { params: Promise<{ productId: string; deviceName: string }> }) => {
  const { productId, deviceName } = parse(deviceParams, await ctx.params);
  return Response.json(await deviceConnectInfo(productId, deviceName), { headers: { "cache-control": "no-store" } });
});
