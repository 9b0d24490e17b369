import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ApiKeys, KEY_CACHE_MS, parseBootstrapKey } from "./api-keys";
import { tempDir } from "../testing/servers";
import { domainErrorOf, testDatabase } from "../testing/db";

const registry = (): { registry: ApiKeys } => ({ registry: new ApiKeys(testDatabase()) });

describe("ApiKeys", () => {
  it("creates Tencent-shaped keys and never lists the SecretKey", () => {
    const { registry: r } = registry();
    const k = r.createApiKey("ci");
    expect(k.secretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
    expect(k.secretKey).toMatch(/^[A-Za-z0-9]{32}$/);
    const k2 = r.createApiKey();
    expect(k2.secretId).not.toBe(k.secretId);
    const list = r.listApiKeys();
    expect(list).toHaveLength(2);
    expect(list.find((x) => x.secretId === k.secretId)).toEqual({
      secretId: k.secretId,
      name: "ci",
      createdAt: expect.any(String),
      revokedAt: null,
      lastUsedAt: null,
      role: "operator",
    });
    expect(list.find((x) => x.secretId === k2.secretId)?.name).toBeNull();
    const viewer = r.createApiKey("read only", "viewer");
    expect(r.roleOf(viewer.secretId)).toBe("viewer");
    expect(r.roleOf(k.secretId)).toBe("operator");
    expect(JSON.stringify(list)).not.toContain(k.secretKey);
    expect(JSON.stringify(list)).not.toContain(k2.secretKey);
    expect(r.secretFor(k.secretId)).toBe(k.secretKey);
    expect(r.secretFor("AKIDnope")).toBeNull();
  });

  it("revokes for good; secretFor then says null", () => {
    const { registry: r } = registry();
    const k = r.createApiKey("old");
    const revoked = r.revokeApiKey(k.secretId);
    expect(revoked.revokedAt).not.toBeNull();
    expect(r.secretFor(k.secretId)).toBeNull();
    expect(r.revokeApiKey(k.secretId).revokedAt).toBe(revoked.revokedAt);
    expect(domainErrorOf(() => r.revokeApiKey("AKIDnope")).reason).toBe("key_not_found");
  });

  it("answers from memory: its own revoke at once, another process's within KEY_CACHE_MS; unknown ids are not kept", () => {
    const db = testDatabase();
    let now = 0;
    const r = new ApiKeys(db, { now: () => now });
    // Another process on the same file (`npm run keys -- create|revoke` while the hub runs).
    const cli = new ApiKeys(db);
    const a = r.createApiKey("a");
    const b = r.createApiKey("b", "viewer");
    expect(r.secretFor(a.secretId)).toBe(a.secretKey);
    expect(r.roleOf(b.secretId)).toBe("viewer");
    expect(r.nameOf(b.secretId)).toBe("b");
    r.revokeApiKey(a.secretId);
    expect(r.secretFor(a.secretId)).toBeNull();
    expect(r.roleOf(a.secretId)).toBeNull();

    cli.revokeApiKey(b.secretId);
    now += KEY_CACHE_MS - 1;
    expect(r.secretFor(b.secretId)).not.toBeNull();
    now += 1;
    expect(r.secretFor(b.secretId)).toBeNull();
    expect(r.roleOf(b.secretId)).toBeNull();

    expect(r.secretFor("AKIDlater")).toBeNull();
    cli.ensureApiKey("AKIDlater", "laterlaterlater");
    expect(r.secretFor("AKIDlater")).toBe("laterlaterlater");
    // A new bootstrap SecretKey applies at once in the process that set it.
    expect(r.ensureApiKey("AKIDlater", "newnewnewnew")).toBe("updated");
    expect(r.secretFor("AKIDlater")).toBe("newnewnewnew");
  });

  it("records last use at most once a minute", () => {
    const { registry: r } = registry();
    const k = r.createApiKey();
    const t = Date.parse("2026-01-01T00:00:00Z");
    r.markApiKeyUsed(k.secretId, t);
    r.markApiKeyUsed(k.secretId, t + 30_000);
    expect(r.getApiKey(k.secretId)?.lastUsedAt).toBe("2026-01-01T00:00:00.000Z");
    r.markApiKeyUsed(k.secretId, t + 61_000);
    expect(r.getApiKey(k.secretId)?.lastUsedAt).toBe("2026-01-01T00:01:01.000Z");
  });

  it("ensureApiKey creates, updates, keeps, and never revives a revoked key", () => {
    const { registry: r } = registry();
    expect(r.ensureApiKey("AKIDbootstrap", "s3cret")).toBe("created");
    expect(r.secretFor("AKIDbootstrap")).toBe("s3cret");
    expect(r.getApiKey("AKIDbootstrap")?.name).toBe("bootstrap");
    expect(r.ensureApiKey("AKIDbootstrap", "s3cret")).toBe("unchanged");
    expect(r.ensureApiKey("AKIDbootstrap", "n3w")).toBe("updated");
    expect(r.secretFor("AKIDbootstrap")).toBe("n3w");
    r.revokeApiKey("AKIDbootstrap");
    expect(r.ensureApiKey("AKIDbootstrap", "n3w")).toBe("revoked");
    expect(r.secretFor("AKIDbootstrap")).toBeNull();
    expect(() => r.ensureApiKey("bad/id", "x")).toThrow(/SecretId/);
    expect(() => r.ensureApiKey("AKIDok", "has space")).toThrow(/SecretKey/);
    expect(parseBootstrapKey("AKIDx:key:with:colons")).toEqual({ secretId: "AKIDx", secretKey: "key:with:colons" });
    expect(parseBootstrapKey("nocolon")).toBeNull();
    expect(parseBootstrapKey(":key")).toBeNull();
    expect(parseBootstrapKey("id:")).toBeNull();
  });
});

describe("npm run keys", () => {
  const tsx = join(__dirname, "..", "..", "..", "node_modules", ".bin", "tsx");
  const script = join(__dirname, "..", "..", "..", "scripts", "keys.ts");
  const run = (db: string, ...args: string[]) => {
    const r = spawnSync(tsx, [script, ...args], { env: { ...process.env, RRPC_DB: db }, encoding: "utf8" });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it("creates (printing the SecretKey once), lists without it, revokes", () => {
    const db = join(tempDir(), "data", "rrpc.db");
    const created = run(db, "create", "--name", "ops laptop");
    expect(created.code).toBe(0);
    const secretId = /SecretId:\s+(AKID\w{32})/.exec(created.out)?.[1];
    const secretKey = /SecretKey:\s+(\w{32})/.exec(created.out)?.[1];
    expect(secretId).toBeDefined();
    expect(secretKey).toBeDefined();

    const listed = run(db, "list");
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(secretId);
    expect(listed.out).toContain("ops laptop");
    expect(listed.out).not.toContain(secretKey);
    const json = JSON.parse(run(db, "list", "--json").out) as { secretId: string; revokedAt: string | null }[];
    expect(json).toEqual([expect.objectContaining({ secretId, revokedAt: null })]);

    expect(run(db, "revoke", secretId!)).toMatchObject({ code: 0, out: expect.stringContaining(`revoked ${secretId}`) });
    const after = JSON.parse(run(db, "list", "--json").out) as { revokedAt: string | null }[];
    expect(after[0]?.revokedAt).not.toBeNull();
    expect(run(db, "revoke", "AKIDnope")).toMatchObject({ code: 1, err: expect.stringContaining("no API key") });
    expect(run(db, "frobnicate").code).toBe(2);
  }, 60_000);
});
