import { liveConfig } from "@/lib/server/http/api";
import { route } from "@/lib/server/http/http";

export const dynamic = "force-dynamic";

export const GET = route(async () => Response.json(await liveConfig()));
