import { exportCalls } from "@/lib/server/http/api";
import { parse, route } from "@/lib/server/http/http";
import { exportCallsSchema } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

export const GET = route(async (req: Request) => {
  const q = parse(exportCallsSchema, Object.fromEntries(new URL(req.url).searchParams), "query");
  return exportCalls(q);
});
