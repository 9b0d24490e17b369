import { tencentApi } from "@/lib/server/http/api";
import { route } from "@/lib/server/http/http";

export const dynamic = "force-dynamic";

// Reached through proxy.ts: Tencent's SDKs send `POST /` or `GET /?…` with an X-TC-Action
// header. TC3-HMAC-SHA256 signatures are the authentication; errors are HTTP 200 envelopes.
export const GET = route(tencentApi, { public: true });
export const POST = route(tencentApi, { public: true });
