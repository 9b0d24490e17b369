import { deleteDevice, setDeviceDisabled } from "@/lib/server/http/api";
import { parse, readJson, route } from "@/lib/server/http/http";
import { deviceParams, updateDeviceSchema } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ productId: string; deviceName: string }> };

export const PATCH = route(async (req: Request, ctx: Ctx) => {
  const { productId, deviceName } = parse(deviceParams, await ctx.params);
  const { disabled } = parse(updateDeviceSchema, await readJson(req, 4096));
  return Response.json(await setDeviceDisabled(productId, deviceName, disabled));
});

export const DELETE = route(async (_req: Request, ctx: Ctx) => {
  const { productId, deviceName } = parse(deviceParams, await ctx.params);
  await deleteDevice(productId, deviceName);
  return new Response(null, { status: 204 });
});
