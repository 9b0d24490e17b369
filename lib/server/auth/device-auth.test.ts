import { describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { clientIdSplits, deviceCredentials, deviceInfoJson, NEVER_EXPIRES, verifyDeviceLogin, type DeviceLoginInput } from "./device-auth";

const NOW = 1_764_165_000;
const SECRET = Buffer.from("0123456789abcdef").toString("base64");
const OTHER = Buffer.from("fedcba9876543210").toString("base64");

type Dev = { secret: string; disabled: boolean };
function lookup(devices: Record<string, Dev>): DeviceLoginInput["secretFor"] {
  return (p, d) => devices[`${p}/${d}`] ?? null;
}
const registered = lookup({ "AIRCOND001/kitchen": { secret: SECRET, disabled: false }, "AIRCOND001/off": { secret: SECRET, disabled: true } });

/** Username and password exactly as the SDKs build them (docs/protocol.md, "Device login"). */
function sdkLogin(clientId: string, secret: string, expiry: string, alg: "sha1" | "sha256", sdkappid = "12010126") {
  const username = `${clientId};${sdkappid};aB3dE;${expiry}`;
  const sign = createHmac(alg, Buffer.from(secret, "base64")).update(username).digest("hex");
  return { clientId, username, password: `${sign};hmac${alg}` };
}

const login = (l: { clientId: string; username: string; password: string | Buffer }, over: Partial<DeviceLoginInput> = {}) =>
  verifyDeviceLogin({ ...l, now: NOW, secretFor: registered, ...over });

describe("verifyDeviceLogin", () => {
  it("accepts HMAC-SHA1 and HMAC-SHA256, as string or Buffer", () => {
    for (const alg of ["sha1", "sha256"] as const) {
      const l = sdkLogin("AIRCOND001kitchen", SECRET, String(NOW + 3600), alg);
      expect(login(l)).toEqual({ ok: true, productId: "AIRCOND001", deviceName: "kitchen", algorithm: `hmac${alg}`, expiresAt: NOW + 3600 });
      expect(login({ ...l, password: Buffer.from(l.password) }).ok).toBe(true);
    }
  });

  it("accepts the C SDK's never-expiring 9223372036854775807 (and its truncated form)", () => {
    expect(login(sdkLogin("AIRCOND001kitchen", SECRET, NEVER_EXPIRES, "sha1", "21010406"))).toMatchObject({ ok: true, expiresAt: null });
    expect(login(sdkLogin("AIRCOND001kitchen", SECRET, "92233720368547758", "sha1"))).toMatchObject({ ok: true });
  });

  it("refuses a wrong secret or a tampered username", () => {
    expect(login(sdkLogin("AIRCOND001kitchen", OTHER, NEVER_EXPIRES, "sha256"))).toMatchObject({ ok: false, reason: "bad_credentials" });
    const l = sdkLogin("AIRCOND001kitchen", SECRET, String(NOW + 60), "sha256");
    expect(login({ ...l, username: l.username.replace(String(NOW + 60), String(NOW + 99999)) })).toMatchObject({ reason: "bad_credentials" });
    expect(login({ ...l, password: l.password.replace("hmacsha256", "hmacsha1") })).toMatchObject({ reason: "bad_credentials" });
  });

  it("refuses expired credentials in seconds", () => {
    expect(login(sdkLogin("AIRCOND001kitchen", SECRET, String(NOW - 1), "sha256"))).toMatchObject({ ok: false, reason: "expired" });
    expect(login(sdkLogin("AIRCOND001kitchen", SECRET, String(NOW), "sha256"))).toMatchObject({ ok: true });
  });

  it("millisecond expiries: refused when past with msExpiry 'enforce'; by default ignored, as the Python SDK needs", () => {
    const pastMs = sdkLogin("AIRCOND001kitchen", SECRET, String((NOW - 60) * 1000), "sha1");
    const futureMs = sdkLogin("AIRCOND001kitchen", SECRET, String((NOW + 60) * 1000), "sha1");
    expect(login(pastMs, { msExpiry: "enforce" })).toMatchObject({ ok: false, reason: "expired" });
    expect(login(futureMs, { msExpiry: "enforce" })).toMatchObject({ ok: true, expiresAt: NOW + 60 });
    // The Python SDK stamps the time its client was created, in ms, and reconnects with it a day later.
    expect(login(pastMs)).toMatchObject({ ok: true, expiresAt: null });
    expect(login(pastMs, { now: NOW + 86_400 })).toMatchObject({ ok: true });
  });

  it("refuses unknown and disabled devices (disabled only once the secret is proven)", () => {
    expect(login(sdkLogin("AIRCOND001nobody", SECRET, NEVER_EXPIRES, "sha256"))).toMatchObject({ ok: false, reason: "unknown_device" });
    expect(login(sdkLogin("AIRCOND001off", SECRET, NEVER_EXPIRES, "sha256"))).toMatchObject({ ok: false, reason: "disabled" });
    expect(login(sdkLogin("AIRCOND001off", OTHER, NEVER_EXPIRES, "sha256"))).toMatchObject({ ok: false, reason: "bad_credentials" });
  });

  it("refuses a username that is not the client id's, and malformed fields", () => {
    const l = sdkLogin("AIRCOND001kitchen", SECRET, NEVER_EXPIRES, "sha256");
    expect(login({ ...l, clientId: "AIRCOND001other" })).toMatchObject({ reason: "not_authorized" });
    for (const username of [
      "",
      "AIRCOND001kitchen",
      "AIRCOND001kitchen;12010126;aB3dE",
      "AIRCOND001kitchen;12010126;;1",
      "AIRCOND001kitchen;1;c;soon",
    ]) {
      expect(verifyDeviceLogin({ clientId: l.clientId, username, password: l.password, now: NOW, secretFor: registered }), username).toMatchObject({
        reason: "bad_credentials",
      });
    }
    for (const password of [
      "",
      "abc",
      "abc;hmacsha256",
      `${"0".repeat(64)};hmacmd5`,
      `${"0".repeat(40)};hmacsha256`,
      `${"z".repeat(64)};hmacsha256`,
    ]) {
      expect(login({ ...l, password }), password).toMatchObject({ reason: "bad_credentials" });
    }
    expect(verifyDeviceLogin({ clientId: l.clientId, username: undefined, password: undefined, now: NOW, secretFor: registered })).toMatchObject({
      reason: "bad_credentials",
    });
  });

  it("resolves an ambiguous client id through the registry", () => {
    // "ABC12XY" reads as ABC12/XY, ABC1/2XY, ABC/12XY, AB/C12XY or A/BC12XY.
    expect(clientIdSplits("ABC12XY").map((s) => `${s.productId}/${s.deviceName}`)).toEqual([
      "ABC12X/Y",
      "ABC12/XY",
      "ABC1/2XY",
      "ABC/12XY",
      "AB/C12XY",
      "A/BC12XY",
    ]);
    const one = lookup({ "ABC/12XY": { secret: SECRET, disabled: false } });
    expect(login(sdkLogin("ABC12XY", SECRET, NEVER_EXPIRES, "sha256"), { secretFor: one })).toMatchObject({
      ok: true,
      productId: "ABC",
      deviceName: "12XY",
    });
    // Two devices share the client id: the longest product id comes first, but the secret decides.
    const two = lookup({ "ABC1/2XY": { secret: OTHER, disabled: false }, "ABC/12XY": { secret: SECRET, disabled: false } });
    expect(login(sdkLogin("ABC12XY", OTHER, NEVER_EXPIRES, "sha256"), { secretFor: two })).toMatchObject({
      ok: true,
      productId: "ABC1",
      deviceName: "2XY",
    });
    expect(login(sdkLogin("ABC12XY", SECRET, NEVER_EXPIRES, "sha256"), { secretFor: two })).toMatchObject({
      ok: true,
      productId: "ABC",
      deviceName: "12XY",
    });
  });

  it("never splits into a product id longer than 10 or with lower-case letters", () => {
    expect(clientIdSplits("ABCDEFGHIJKLMdev").map((s) => s.productId)).toEqual([
      "ABCDEFGHIJ",
      "ABCDEFGHI",
      "ABCDEFGH",
      "ABCDEFG",
      "ABCDEF",
      "ABCDE",
      "ABCD",
      "ABC",
      "AB",
      "A",
    ]);
    expect(clientIdSplits("abc")).toEqual([]);
    expect(clientIdSplits("A")).toEqual([]);
  });
});

describe("deviceCredentials", () => {
  it("builds credentials verifyDeviceLogin accepts, with both algorithms", () => {
    for (const algorithm of ["hmacsha1", "hmacsha256"] as const) {
      const c = deviceCredentials("AIRCOND001", "kitchen", SECRET, { algorithm });
      expect(c.clientId).toBe("AIRCOND001kitchen");
      expect(c.username).toMatch(/^AIRCOND001kitchen;12010126;[A-Za-z0-9]{5};9223372036854775807$/);
      expect(c.password.endsWith(";" + algorithm)).toBe(true);
      expect(login(c)).toMatchObject({ ok: true, productId: "AIRCOND001", deviceName: "kitchen", algorithm });
    }
  });

  it("honours expiry and sdkappid", () => {
    const c = deviceCredentials("AIRCOND001", "kitchen", SECRET, { expiry: NOW + 10, sdkappid: "21010406" });
    expect(c.username).toMatch(new RegExp(`;21010406;[A-Za-z0-9]{5};${NOW + 10}$`));
    expect(login(c).ok).toBe(true);
    expect(login(c, { now: NOW + 11 })).toMatchObject({ reason: "expired" });
  });
});

describe("deviceInfoJson", () => {
  it("has the C SDK's device_info.json layout and fits its 1024-byte limit", () => {
    const text = deviceInfoJson("AIRCOND001", "d".repeat(48), SECRET);
    expect(JSON.parse(text)).toEqual({
      auth_mode: "KEY",
      region: "china",
      productId: "AIRCOND001",
      productSecret: "YOUR_PRODUCT_SECRET",
      deviceName: "d".repeat(48),
      key_deviceinfo: { deviceSecret: SECRET },
    });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
  });
});
