import { NextResponse, type NextRequest } from "next/server";

/**
 * Tencent Cloud API 3.0 clients call `POST /` or `GET /?…` with an X-TC-Action header; the
 * dashboard keeps `/` for browsers. Route by the header, not the path.
 */
export function proxy(req: NextRequest) {
  if (req.headers.has("x-tc-action")) {
    const url = req.nextUrl.clone();
    url.pathname = "/api/tencent";
    return NextResponse.rewrite(url);
  }
  return NextResponse.next();
}

export const config = { matcher: "/" };
