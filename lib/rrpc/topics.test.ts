import { describe, expect, it } from "vitest";
import {
  checkDeviceName,
  checkProcessId,
  checkProductId,
  deviceClientId,
  deviceRequestFilter,
  parseRrpcTopic,
  replyTopic,
  requestTopic,
} from "./topics";
import { PROCESS_ID_MAX, PROCESS_ID_MIN, formatProcessId, parseProcessId } from "./process-id";
import { base64ToBytes, bytesToBase64, isBase64, payloadView, strictUtf8, toHex, utf8Bytes } from "./payload";

describe("topics", () => {
  it("builds the request, reply and subscription topics of docs/protocol.md", () => {
    expect(requestTopic("KL4J2AAAA8", "airConditioner1", "1000000007")).toBe("$rrpc/rxd/KL4J2AAAA8/airConditioner1/1000000007");
    expect(replyTopic("KL4J2AAAA8", "airConditioner1", "1000000007")).toBe("$rrpc/txd/KL4J2AAAA8/airConditioner1/1000000007");
    expect(deviceRequestFilter("KL4J2AAAA8", "airConditioner1")).toBe("$rrpc/rxd/KL4J2AAAA8/airConditioner1/+");
    expect(deviceClientId("KL4J2AAAA8", "airConditioner1")).toBe("KL4J2AAAA8airConditioner1");
  });

  it("parses request and reply topics and nothing else", () => {
    expect(parseRrpcTopic("$rrpc/txd/P1/dev/42")).toEqual({ direction: "reply", productId: "P1", deviceName: "dev", processId: "42" });
    expect(parseRrpcTopic("$rrpc/rxd/P1/dev/42")?.direction).toBe("request");
    for (const t of [
      "$rrpc/txd/P1/dev",
      "$rrpc/txd/P1/dev/42/x",
      "$rrpc/abc/P1/dev/42",
      "rrpc/txd/P1/dev/42",
      "$rrpc/txd//dev/42",
      "$rrpc/txd/P1/dev/4a",
      "$rrpc/txd/P1/dev/042",
      "$rrpc/txd/P1/dev/",
    ]) {
      expect(parseRrpcTopic(t), t).toBeNull();
    }
  });

  it("refuses topic-level characters, empty and over-long ids with a reason", () => {
    for (const bad of ["A/B", "A+", "#", "A\u0000", ""]) {
      expect(checkProductId(bad)?.message, JSON.stringify(bad)).toMatch(/topic level/);
      expect(checkDeviceName(bad)?.message, JSON.stringify(bad)).toMatch(/topic level/);
    }
    expect(checkProductId("ABCDEFGHIJK")?.message).toMatch(/longer than 10/);
    expect(checkProductId("lower")?.message).toMatch(/upper-case/);
    expect(checkDeviceName("x".repeat(49))?.message).toMatch(/longer than 48/);
    expect(checkDeviceName("a b")?.message).toMatch(/letters, digits/);
    expect(checkProductId(42)?.message).toMatch(/string/);
    expect(checkProductId("KL4J2AAAA8")).toBeNull();
    expect(checkDeviceName("air:Cond_1-x")).toBeNull();
    expect(checkDeviceName("x".repeat(48))).toBeNull();
    expect(checkProcessId("1000000000")).toBeNull();
    expect(checkProcessId("12345678901234567")).not.toBeNull();
  });
});

describe("processId", () => {
  it("formats fixed-width ids with no leading zero, so string and integer agree", () => {
    expect(formatProcessId(PROCESS_ID_MIN)).toBe("1000000000");
    expect(formatProcessId(PROCESS_ID_MAX)).toBe("9999999999");
    expect(() => formatProcessId(PROCESS_ID_MIN - 1)).toThrow(RangeError);
    expect(() => formatProcessId(PROCESS_ID_MAX + 1)).toThrow(RangeError);
  });

  it("parses only canonical decimal ids of at most 16 digits", () => {
    expect(parseProcessId("469")).toBe(469);
    expect(parseProcessId("1000000000")).toBe(1_000_000_000);
    expect(parseProcessId("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ["", "0469", "-1", "1e3", "12345678901234567", "9999999999999999", " 1"]) {
      expect(parseProcessId(bad), bad).toBeNull();
    }
  });
});

describe("payload codecs", () => {
  it("round-trips bytes through base64 and tells UTF-8 from binary", () => {
    const bin = new Uint8Array([0, 255, 128, 10]);
    expect(base64ToBytes(bytesToBase64(bin))).toEqual(bin);
    expect(bytesToBase64(utf8Bytes("ABCD"))).toBe("QUJDRA==");
    expect(strictUtf8(utf8Bytes("温度 ok"))).toBe("温度 ok");
    expect(strictUtf8(bin)).toBeUndefined();
    expect(payloadView(utf8Bytes("ok"))).toEqual({ payloadBase64: "b2s=", payloadText: "ok" });
    expect(payloadView(bin)).toEqual({ payloadBase64: "AP+ACg==" });
    expect(toHex(bin)).toBe("00 ff 80 0a");
    const big = new Uint8Array(70_000).map((_, i) => i % 251);
    expect(base64ToBytes(bytesToBase64(big))).toEqual(big);
  });

  it("accepts only canonical base64", () => {
    expect(isBase64("QUJDRA==")).toBe(true);
    expect(isBase64("")).toBe(true);
    for (const bad of ["QUJDRA=", "QUJ DRA==", "QUJDRA===", "!!!!", "QUJDR"]) expect(isBase64(bad), bad).toBe(false);
  });
});
