import { createDevice, listDevices } from "@/lib/server/http/api";
import { parse, readJson, route } from "@/lib/server/http/http";
import { createDeviceSchema } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

export const GET = route(async () => Response.json(await listDevices()));

export const POST = route(async (req: Request) => {
  const { productId, deviceName } = parse(createDeviceSchema, await readJson(req, 4096));
  return Response.json(await createDevice(productId, deviceName), { status: 201 });
});
