import { session, signIn, signOut } from "@/lib/server/http/api";
import { parse, readJson, route } from "@/lib/server/http/http";
import { readCookie, SESSION_COOKIE } from "@/lib/server/auth/request-auth";
import { signInSchema } from "@/lib/rrpc/schemas";

export const dynamic = "force-dynamic";

const secure = (req: Request) => new URL(req.url).protocol === "https:" || req.headers.get("x-forwarded-proto") === "https";

export const GET = route(async (req: Request) => Response.json(await session(readCookie(req.headers.get("cookie"), SESSION_COOKIE))), { public: true });

export const POST = route(async (req: Request) => {
  const { user, password } = parse(signInSchema, await readJson(req, 4096));
  return signIn(user, password, secure(req));
}, { public: true });

export const DELETE = route(async (req: Request) => signOut(secure(req)), { public: true });
