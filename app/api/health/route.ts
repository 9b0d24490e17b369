import { health } from "@/lib/server/http/api";
import { route } from "@/lib/server/http/http";

export const dynamic = "force-dynamic";

export const GET = route(async () => {
  const h = await health();
  return Response.json(h, { status: h.ok ? 200 : 503 });
}, { public: true });
