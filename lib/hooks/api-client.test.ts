import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiClientError, loginUrl, safeNext } from "./api-client";

const ORIGIN = "http://hub.test";

function answer(status: number, body: string | null, headers: Record<string, string> = {}) {
  return vi.fn(async () => new Response(body, { status, headers }));
}

function stubWindow(path: string, search = "") {
  const assign = vi.fn();
  vi.stubGlobal("window", { location: { pathname: path, search, origin: ORIGIN, assign } });
  return assign;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("api()", () => {
  it("sends JSON and resolves with the parsed answer", async () => {
    const f = answer(201, JSON.stringify({ secretId: "AKID1", secretKey: "k" }));
    vi.stubGlobal("fetch", f);
    await expect(api("POST", "/api/keys", { name: "x" })).resolves.toEqual({ secretId: "AKID1", secretKey: "k" });
    const [path, init] = f.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/api/keys");
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"name":"x"}');
    expect((init.headers as Record<string, string>)["content-type"]).toBe("application/json");
  });

  it("resolves with undefined on 204", async () => {
    vi.stubGlobal("fetch", answer(204, null));
    await expect(api("DELETE", "/api/devices/P/d")).resolves.toBeUndefined();
  });

  it("throws the API's error with its fields and the call made", async () => {
    const call = { processId: "1000000001", status: "timeout" };
    const body = { error: { code: "timeout", message: "no reply within 4000 ms", fields: [{ field: "x", message: "y" }] }, call };
    vi.stubGlobal("fetch", answer(504, JSON.stringify(body)));
    const e = (await api("POST", "/api/calls", {}).catch((x: unknown) => x)) as ApiClientError;
    expect(e).toBeInstanceOf(ApiClientError);
    expect(e).toMatchObject({ status: 504, code: "timeout", message: "no reply within 4000 ms", body });
    expect(e.call).toEqual(call);
    expect(e.fields).toEqual([{ field: "x", message: "y" }]);
  });

  it("throws http_error for a non-JSON error answer, network_error when nothing answers, invalid_response for a non-JSON 200", async () => {
    vi.stubGlobal("fetch", answer(502, "<html>Bad Gateway</html>", { "content-type": "text/html" }));
    await expect(api("GET", "/api/devices")).rejects.toMatchObject({ status: 502, code: "http_error", body: null });
    vi.stubGlobal("fetch", answer(500, JSON.stringify({ oops: 1 })));
    await expect(api("GET", "/api/devices")).rejects.toMatchObject({ status: 500, code: "http_error", body: null });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))),
    );
    await expect(api("GET", "/api/devices")).rejects.toMatchObject({ status: 0, code: "network_error" });
    vi.stubGlobal("fetch", answer(200, "<html>sign in</html>"));
    await expect(api("GET", "/api/devices")).rejects.toMatchObject({ status: 200, code: "invalid_response" });
  });

  it("on 401 unauthorized, sends the browser to sign in and back", async () => {
    const assign = stubWindow("/history", "?deviceName=a&status=success");
    vi.stubGlobal("fetch", answer(401, JSON.stringify({ error: { code: "unauthorized", message: "sign in" } })));
    await expect(api("GET", "/api/calls")).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(assign).toHaveBeenCalledWith("/login?next=%2Fhistory%3FdeviceName%3Da%26status%3Dsuccess");
  });

  it("does not leave the page on 401 when told not to (a wrong password), nor from the sign-in page", async () => {
    vi.stubGlobal("fetch", answer(401, JSON.stringify({ error: { code: "unauthorized", message: "wrong user name or password" } })));
    let assign = stubWindow("/login", "?next=%2F");
    await expect(api("POST", "/api/session", {}, { redirectOnUnauthorized: false })).rejects.toMatchObject({ status: 401 });
    await expect(api("GET", "/api/session")).rejects.toMatchObject({ status: 401 });
    expect(assign).not.toHaveBeenCalled();
    assign = stubWindow("/keys");
    await expect(api("POST", "/api/session", {}, { redirectOnUnauthorized: false })).rejects.toMatchObject({ status: 401 });
    expect(assign).not.toHaveBeenCalled();
  });
});

describe("safeNext()", () => {
  it("keeps a path of this site, with its query", () => {
    expect(safeNext("/history?deviceName=a", ORIGIN)).toBe("/history?deviceName=a");
    expect(safeNext("/calls/1000000001", ORIGIN)).toBe("/calls/1000000001");
    expect(loginUrl("/")).toBe("/login");
  });
  it("refuses anything else", () => {
    for (const bad of [
      null,
      undefined,
      "",
      "history",
      "//evil.test/x",
      "/\\evil.test",
      "/\t/evil.test",
      "https://evil.test/",
      "javascript:alert(1)",
      "/login?next=/",
    ]) {
      expect(safeNext(bad, ORIGIN)).toBe("/");
    }
  });
});
