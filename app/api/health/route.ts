import { health } from "@/lib/server/api";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(async () => {
  const h = await health();
  return Response.json(h, { status: h.ok ? 200 : 503 });
}, { public: true });
