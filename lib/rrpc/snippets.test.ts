import { describe, expect, it } from "vitest";
import { callRequestOf, curlCommand, exactText, shellQuote, tencentSdkSnippet, type RepeatableCall } from "./snippets";
import { bytesToBase64, utf8Bytes } from "./payload";

const text = (s: string): RepeatableCall => ({
  productId: "AIRCOND001",
  deviceName: "airConditioner1",
  request: { payloadBase64: bytesToBase64(utf8Bytes(s)), payloadText: s },
  timeoutMs: 4000,
});
const binary: RepeatableCall = { productId: "AIRCOND001", deviceName: "dev:1", request: { payloadBase64: "AP+ACg==" }, timeoutMs: 1500 };
const origin = "http://127.0.0.1:3000";

describe("the request that repeats a call", () => {
  it("sends text as text and anything else as base64, with the call's timeout", () => {
    expect(callRequestOf(text("closed"))).toEqual({ productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed", timeoutMs: 4000 });
    expect(callRequestOf(binary)).toEqual({ productId: "AIRCOND001", deviceName: "dev:1", payload: "AP+ACg==", encoding: "base64", timeoutMs: 1500 });
    // A leading BOM decodes to text that does not encode back to the same bytes: base64 keeps them.
    const bom: RepeatableCall = {
      ...text("x"),
      request: { payloadBase64: bytesToBase64(new Uint8Array([0xef, 0xbb, 0xbf, 0x78])), payloadText: "x" },
    };
    expect(exactText(bom.request)).toBeUndefined();
    expect(callRequestOf(bom)).toMatchObject({ encoding: "base64", payload: "77u/eA==" });
    expect(callRequestOf(text(""))).toMatchObject({ payload: "" });
  });

  it("quotes for sh", () => {
    expect(shellQuote("plain")).toBe("'plain'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it("curl: POST {origin}/api/calls with the body, an API key from the environment only with sign-in on, never a secret", () => {
    const open = curlCommand(text("closed"), { origin, signIn: false });
    expect(open).toContain("curl -sS -X POST 'http://127.0.0.1:3000/api/calls'");
    expect(open).toContain(`--data-raw '{"productId":"AIRCOND001","deviceName":"airConditioner1","payload":"closed","timeoutMs":4000}'`);
    expect(
      open
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n"),
    ).not.toContain("-u ");
    const signed = curlCommand(text("closed"), { origin, signIn: true });
    expect(signed).toContain(`  -u "$RRPC_SECRET_ID:$RRPC_SECRET_KEY" \\`);
    expect(signed.split("\n")[0]).toMatch(/^# Sign-in is on/);
  });

  it("Tencent's SDK: PublishRRPCMessage with the payload as text, the hub as endpoint, placeholders for the key", () => {
    const s = tencentSdkSnippet(text('say "hi"'), { origin, defaultTimeoutMs: 4000 });
    expect(s).toContain('import tencentcloud from "tencentcloud-sdk-nodejs";');
    expect(s).toContain("new tencentcloud.iotcloud.v20210408.Client(");
    expect(s).toContain('credential: { secretId: "YOUR_SECRET_ID", secretKey: "YOUR_SECRET_KEY" }');
    expect(s).toContain('httpProfile: { endpoint: "127.0.0.1:3000", protocol: "http://" }');
    expect(s).toContain('PublishRRPCMessage({ ProductId: "AIRCOND001", DeviceName: "airConditioner1", Payload: "say \\"hi\\"" })');
    expect(s).not.toContain("has no timeout");
    expect(tencentSdkSnippet(text("x"), { origin: "https://hub.example:8443" })).toContain('endpoint: "hub.example:8443", protocol: "https://"');
  });

  it("Tencent's SDK: says when the call cannot be repeated exactly (binary payload, another timeout)", () => {
    const s = tencentSdkSnippet(binary, { origin, defaultTimeoutMs: 4000 });
    expect(s).toContain("payload is not UTF-8 text");
    expect(s).toContain('Payload: "AP+ACg=="');
    expect(s).toContain("the hub waits 4000 ms (this call waited 1500 ms)");
  });
});
