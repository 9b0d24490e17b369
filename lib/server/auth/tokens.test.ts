import { describe, expect, it } from "vitest";
import { TokenSigner, hashPassword, isPasswordHash, verifyPassword } from "./tokens";

describe("TokenSigner", () => {
  it("verifies its own unexpired tokens and nothing else", () => {
    const s = new TokenSigner();
    const { token, expiresAt } = s.sign("admin", 1000, 5000);
    expect(expiresAt).toBe(6000);
    expect(s.verify(token, 5999)).toBe("admin");
    expect(s.verify(token, 6000)).toBeNull();
    expect(new TokenSigner().verify(token, 5000)).toBeNull();
    const [payload, exp, mac] = token.split(".");
    expect(s.verify(`root.${exp}.${mac}`, 5000)).toBeNull();
    expect(s.verify(`${payload}.${Number(exp) + 1000}.${mac}`, 5000)).toBeNull();
    for (const junk of ["", "a", "a.b", "..", null, undefined]) expect(s.verify(junk, 5000)).toBeNull();
  });
});

describe("operator passwords", () => {
  it("hashes with scrypt and a salt, and verifies only the right password", async () => {
    const h = hashPassword("correct horse battery staple");
    expect(isPasswordHash(h)).toBe(true);
    expect(h).not.toContain("correct");
    expect(hashPassword("correct horse battery staple")).not.toBe(h);
    expect(await verifyPassword("correct horse battery staple", h)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", h)).toBe(false);
    expect(await verifyPassword("x", "plain-text")).toBe(false);
  });
});
