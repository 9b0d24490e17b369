import { liveConfig } from "@/lib/server/api";
import { route } from "@/lib/server/http";

export const dynamic = "force-dynamic";

export const GET = route(async () => Response.json(await liveConfig()));
