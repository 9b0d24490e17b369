import { describe, expect, it } from "vitest";
import { draftFromQuery, draftOf } from "./prefill";
import type { CallJson } from "../rrpc/types";

const call = (request: CallJson["request"]) => ({ productId: "P1", deviceName: "d1", request, timeoutMs: 2500 });

describe("Edit & resend", () => {
  it("drafts a call's request as text, JSON or base64", () => {
    expect(draftOf(call({ payloadBase64: "Y2xvc2Vk", payloadText: "closed" }))).toEqual({
      productId: "P1",
      deviceName: "d1",
      payload: "closed",
      mode: "text",
      timeoutMs: "2500",
    });
    expect(draftOf(call({ payloadBase64: "e30=", payloadText: "{}" })).mode).toBe("json");
    expect(draftOf(call({ payloadBase64: "AP8=" }))).toMatchObject({ payload: "AP8=", mode: "base64" });
  });

  it("reads the console's form from its query string", () => {
    const q = new URLSearchParams({ productId: "P1", deviceName: "d1", payload: '{"a":1}', encoding: "utf8", mode: "json", timeoutMs: "900" });
    expect(draftFromQuery(Object.fromEntries(q))).toEqual({ productId: "P1", deviceName: "d1", payload: '{"a":1}', mode: "json", timeoutMs: "900" });
    expect(draftFromQuery({ productId: "P1", deviceName: "d1", payload: "AP8=", encoding: "base64" })).toMatchObject({ mode: "base64" });
    // A device alone (the Devices page's link) keeps the rest of the form.
    expect(draftFromQuery({ productId: "P1", deviceName: "d1" })).toEqual({ productId: "P1", deviceName: "d1" });
    expect(draftFromQuery({ draft: "k1" })).toEqual({ draftKey: "k1" });
    expect(draftFromQuery({ productId: "P1" })).toBeUndefined();
  });
});
