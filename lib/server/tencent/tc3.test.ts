import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { hostWithoutPort, parseTc3Authorization, sdkServiceFor, signTc3, tc3Date, verifyTc3, type Tc3VerifyInput } from "./tc3";

// The official SDK's own signer, to check signTc3 against it byte for byte.
const sdkSign = createRequire(import.meta.url)("tencentcloud-sdk-nodejs/tencentcloud/common/sign").default as {
  sign3(o: Record<string, unknown>): string;
};

const ID = "AKIDexampleexampleexampleexample12";
const KEY = "exampleSecretKeyexampleSecretKey";
const NOW = 1_764_165_000; // 2025-11-26T13:50:00Z

function request(over: { method?: string; rawQuery?: string; body?: string; host?: string; contentType?: string; timestamp?: number } = {}) {
  const method = over.method ?? "POST";
  const body = over.body ?? (method === "GET" ? "" : '{"ProductId":"AIRCOND001","DeviceName":"dev1","Payload":"closed"}');
  const contentType = over.contentType ?? (method === "GET" ? "application/x-www-form-urlencoded" : "application/json");
  const host = over.host ?? "127.0.0.1:3000";
  const timestamp = over.timestamp ?? NOW;
  const rawQuery = over.rawQuery ?? "";
  const authorization = signTc3({ method, host, contentType, rawQuery, body, timestamp, service: "127", secretId: ID, secretKey: KEY });
  const headers: Record<string, string> = {
    authorization,
    "content-type": contentType,
    host,
    "x-tc-timestamp": String(timestamp),
  };
  return { method, rawQuery, body: Buffer.from(body), headers };
}

function verify(r: ReturnType<typeof request>, over: Partial<Tc3VerifyInput> = {}) {
  return verifyTc3({
    method: r.method,
    rawQuery: r.rawQuery,
    headers: (n) => r.headers[n.toLowerCase()] ?? null,
    body: r.body,
    now: NOW,
    secretFor: (id) => (id === ID ? KEY : null),
    ...over,
  });
}

describe("signTc3", () => {
  it("produces exactly the official SDK's Authorization for POST and GET", () => {
    for (const method of ["POST", "GET"] as const) {
      const payload = method === "POST" ? { ProductId: "AIRCOND001", DeviceName: "dev1", Payload: "closed" } : "";
      const rawQuery = method === "GET" ? "DeviceName=dev1&Payload=a%20b&ProductId=AIRCOND001" : "";
      const contentType = method === "GET" ? "application/x-www-form-urlencoded" : "application/json";
      const sdk = sdkSign.sign3({
        method,
        url: `http://127.0.0.1:3000/${rawQuery ? "?" + rawQuery : ""}`,
        payload,
        timestamp: NOW,
        service: "127",
        secretId: ID,
        secretKey: KEY,
        headers: { "Content-Type": contentType },
      });
      const ours = signTc3({
        method,
        host: "127.0.0.1:3000",
        contentType,
        rawQuery,
        body: typeof payload === "string" ? payload : JSON.stringify(payload),
        timestamp: NOW,
        service: "127",
        secretId: ID,
        secretKey: KEY,
      });
      expect(ours).toBe(sdk);
    }
  });

  it("keeps each key, date and service's signing key apart (derived once, then reused)", () => {
    const cases = [KEY, "anotherSecretKeyanotherSecretKey"].flatMap((secretKey) =>
      [NOW, NOW + 86_400].flatMap((timestamp) => ["127", "iotcloud"].map((service) => ({ secretKey, timestamp, service }))),
    );
    // Twice over, interleaved: the second pass signs with the keys derived by the first.
    for (const c of [...cases, ...cases.reverse()]) {
      const sdk = sdkSign.sign3({
        method: "POST",
        url: "http://127.0.0.1:3000/",
        payload: { a: 1 },
        headers: { "Content-Type": "application/json" },
        secretId: ID,
        ...c,
      });
      expect(signTc3({ method: "POST", host: "127.0.0.1:3000", contentType: "application/json", body: '{"a":1}', secretId: ID, ...c })).toBe(sdk);
    }
  });

  it("spells the credential date of each timestamp, in UTC", () => {
    const midnight = Date.UTC(2025, 10, 27) / 1000;
    expect([NOW, NOW, midnight - 1, midnight, NOW, midnight].map(tc3Date)).toEqual([
      "2025-11-26",
      "2025-11-26",
      "2025-11-26",
      "2025-11-27",
      "2025-11-26",
      "2025-11-27",
    ]);
  });

  it("derives the service the way the SDK does", () => {
    expect(sdkServiceFor("127.0.0.1:3000")).toBe("127");
    expect(sdkServiceFor("iotcloud.tencentcloudapi.com")).toBe("iotcloud");
  });
});

describe("verifyTc3", () => {
  it("accepts a correctly signed POST and GET, with any port on the host", () => {
    expect(verify(request())).toEqual({ ok: true, secretId: ID, service: "127", timestamp: NOW });
    expect(verify(request({ method: "GET", rawQuery: "ProductId=AIRCOND001&DeviceName=dev1&Payload=x" })).ok).toBe(true);
    const r = request({ host: "127.0.0.1:3000" });
    r.headers.host = "127.0.0.1:4000"; // the port is not signed
    expect(verify(r).ok).toBe(true);
  });

  it("accepts timestamps up to 300 s either side of now and refuses beyond", () => {
    expect(verify(request({ timestamp: NOW - 300 })).ok).toBe(true);
    expect(verify(request({ timestamp: NOW + 300 })).ok).toBe(true);
    expect(verify(request({ timestamp: NOW - 301 }))).toMatchObject({ ok: false, code: "AuthFailure.SignatureExpire" });
    expect(verify(request({ timestamp: NOW - 600 }))).toMatchObject({ ok: false, code: "AuthFailure.SignatureExpire" });
    expect(verify(request({ timestamp: NOW + 301 }))).toMatchObject({ ok: false, code: "AuthFailure.SignatureExpire" });
  });

  it("refuses a wrong key, an unknown SecretId and any tampering", () => {
    expect(verify(request(), { secretFor: () => "another key" })).toMatchObject({ code: "AuthFailure.SignatureFailure" });
    expect(verify(request(), { secretFor: () => null })).toMatchObject({ code: "AuthFailure.SecretIdNotFound" });
    const tamper = (f: (r: ReturnType<typeof request>) => void) => {
      const r = request();
      f(r);
      return verify(r);
    };
    expect(tamper((r) => (r.body = Buffer.from(r.body.toString().replace("closed", "opened"))))).toMatchObject({
      code: "AuthFailure.SignatureFailure",
    });
    expect(tamper((r) => (r.rawQuery = "a=1"))).toMatchObject({ code: "AuthFailure.SignatureFailure" });
    expect(tamper((r) => (r.method = "PUT"))).toMatchObject({ code: "AuthFailure.SignatureFailure" });
    expect(tamper((r) => (r.headers.host = "example.com"))).toMatchObject({ code: "AuthFailure.SignatureFailure" });
    expect(tamper((r) => (r.headers["content-type"] = "text/plain"))).toMatchObject({ code: "AuthFailure.SignatureFailure" });
    expect(tamper((r) => (r.headers.authorization = r.headers.authorization!.replace(/Signature=\w/, "Signature=Z")))).toMatchObject({
      code: "AuthFailure.SignatureFailure",
    });
  });

  it("compares header values in lower case and trimmed", () => {
    const r = request();
    r.headers["content-type"] = "  Application/JSON ";
    expect(verify(r).ok).toBe(true);
  });

  it("refuses a timestamp that was signed as another one", () => {
    const r = request({ timestamp: NOW - 10 });
    r.headers["x-tc-timestamp"] = String(NOW);
    expect(verify(r)).toMatchObject({ code: "AuthFailure.SignatureFailure" });
  });

  it("requires the credential date to be the timestamp's UTC date", () => {
    const r = request();
    r.headers.authorization = r.headers.authorization!.replace(tc3Date(NOW), "2025-11-25");
    expect(verify(r)).toMatchObject({ code: "AuthFailure.InvalidAuthorization" });
  });

  it("names missing and malformed parts", () => {
    const without = (h: string) => {
      const r = request();
      delete r.headers[h];
      return verify(r);
    };
    expect(without("authorization")).toMatchObject({ code: "MissingParameter" });
    expect(without("x-tc-timestamp")).toMatchObject({ code: "MissingParameter" });
    expect(without("host")).toMatchObject({ code: "AuthFailure.SignatureFailure" });
    const r = request();
    r.headers["x-tc-timestamp"] = "soon";
    expect(verify(r)).toMatchObject({ code: "InvalidParameter" });
    for (const bad of [
      "Bearer abc",
      "TC3-HMAC-SHA256 Credential=x",
      `TC3-HMAC-SHA256 Credential=${ID}/2025-11-26/127/other, SignedHeaders=content-type;host, Signature=ab`,
      `TC3-HMAC-SHA256 Credential=${ID}/2025-11-26/127/tc3_request, SignedHeaders=host, Signature=ab`,
      `TC3-HMAC-SHA256 Credential=${ID}/2025-11-26/127/tc3_request, SignedHeaders=Content-Type;host, Signature=ab`,
    ]) {
      const q = request();
      q.headers.authorization = bad;
      expect(verify(q), bad).toMatchObject({ code: "AuthFailure.InvalidAuthorization" });
    }
  });

  it("verifies extra signed headers (other SDKs sign x-tc-action too)", () => {
    const body = "{}";
    const authorization = signTc3({
      method: "POST",
      host: "iotcloud.tencentcloudapi.com",
      contentType: "application/json",
      body,
      timestamp: NOW,
      service: "iotcloud",
      secretId: ID,
      secretKey: KEY,
      extraSignedHeaders: { "X-TC-Action": "PublishRRPCMessage" },
    });
    expect(parseTc3Authorization(authorization)?.signedHeaders).toEqual(["content-type", "host", "x-tc-action"]);
    const headers: Record<string, string> = {
      authorization,
      "content-type": "application/json",
      host: "iotcloud.tencentcloudapi.com",
      "x-tc-timestamp": String(NOW),
      "x-tc-action": "PublishRRPCMessage",
    };
    const input = { method: "POST", rawQuery: "", body: Buffer.from(body), now: NOW, secretFor: () => KEY };
    expect(verifyTc3({ ...input, headers: (n) => headers[n] ?? null })).toMatchObject({ ok: true, service: "iotcloud" });
    headers["x-tc-action"] = "DeleteDevice";
    expect(verifyTc3({ ...input, headers: (n) => headers[n] ?? null })).toMatchObject({ code: "AuthFailure.SignatureFailure" });
  });

  it("strips ports from host names as URL.hostname does", () => {
    expect(hostWithoutPort("127.0.0.1:3000")).toBe("127.0.0.1");
    expect(hostWithoutPort("example.com")).toBe("example.com");
    expect(hostWithoutPort("[::1]:3000")).toBe("[::1]");
    expect(hostWithoutPort("[::1]")).toBe("[::1]");
  });
});
