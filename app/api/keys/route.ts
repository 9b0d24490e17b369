import { createApiKey, listApiKeys } from "@/lib/server/http/api";
import { parse, readJson, route } from "@/lib/server/http/http";
import { createKeySchema } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

export const GET = route(async () => Response.json(await listApiKeys()));

export const POST = route(async (req: Request) => {
  const { name } = parse(createKeySchema, await readJson(req, 4096));
  return Response.json(await createApiKey(name), { status: 201, headers: { "cache-control": "no-store" } });
});
