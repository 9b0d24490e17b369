import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ApiKeys, KEY_CACHE_MS, parseBootstrapKey } from "./api-keys";
import { tempDir } from "../testing/servers";
import { closeAfterTest, domainErrorOf } from "../testing/db";
import { storeBackends } from "../testing/backends";

describe.each(storeBackends())("ApiKeys on $name", (backend) => {
  const registry = async (): Promise<{ registry: ApiKeys }> => ({ registry: new ApiKeys(closeAfterTest(await backend.open())) });

  it("creates Tencent-shaped keys and never lists the SecretKey", async () => {
    const { registry: r } = await registry();
    const k = await r.createApiKey("ci");
    expect(k.secretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
    expect(k.secretKey).toMatch(/^[A-Za-z0-9]{32}$/);
    const k2 = await r.createApiKey();
    expect(k2.secretId).not.toBe(k.secretId);
    const list = await r.listApiKeys();
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
    const viewer = await r.createApiKey("read only", "viewer");
    expect(await r.roleOf(viewer.secretId)).toBe("viewer");
    expect(await r.roleOf(k.secretId)).toBe("operator");
    expect(JSON.stringify(list)).not.toContain(k.secretKey);
    expect(JSON.stringify(list)).not.toContain(k2.secretKey);
    expect(await r.secretFor(k.secretId)).toBe(k.secretKey);
    expect(await r.secretFor("AKIDnope")).toBeNull();
  });

  it("revokes for good; secretFor then says null", async () => {
    const { registry: r } = await registry();
    const k = await r.createApiKey("old");
    const revoked = await r.revokeApiKey(k.secretId);
    expect(revoked.revokedAt).not.toBeNull();
    expect(await r.secretFor(k.secretId)).toBeNull();
    expect((await r.revokeApiKey(k.secretId)).revokedAt).toBe(revoked.revokedAt);
    expect((await domainErrorOf(() => r.revokeApiKey("AKIDnope"))).reason).toBe("key_not_found");
  });

  it("answers from memory: its own revoke at once, another process's within KEY_CACHE_MS; unknown ids are not kept", async () => {
    const db = closeAfterTest(await backend.open());
    let now = 0;
    const r = new ApiKeys(db, { now: () => now });
    // Another process (or hub) on the same database (`npm run keys -- create|revoke` while the hub runs).
    const cli = new ApiKeys(db);
    const a = await r.createApiKey("a");
    const b = await r.createApiKey("b", "viewer");
    expect(await r.secretFor(a.secretId)).toBe(a.secretKey);
    expect(await r.roleOf(b.secretId)).toBe("viewer");
    expect(await r.nameOf(b.secretId)).toBe("b");
    await r.revokeApiKey(a.secretId);
    expect(await r.secretFor(a.secretId)).toBeNull();
    expect(await r.roleOf(a.secretId)).toBeNull();

    await cli.revokeApiKey(b.secretId);
    now += KEY_CACHE_MS - 1;
    expect(await r.secretFor(b.secretId)).not.toBeNull();
    now += 1;
    expect(await r.secretFor(b.secretId)).toBeNull();
    expect(await r.roleOf(b.secretId)).toBeNull();

    expect(await r.secretFor("AKIDlater")).toBeNull();
    await cli.ensureApiKey("AKIDlater", "laterlaterlater");
    expect(await r.secretFor("AKIDlater")).toBe("laterlaterlater");
    // A new bootstrap SecretKey applies at once in the process that set it.
    expect(await r.ensureApiKey("AKIDlater", "newnewnewnew")).toBe("updated");
    expect(await r.secretFor("AKIDlater")).toBe("newnewnewnew");
  });

  it("records last use at most once a minute", async () => {
    const { registry: r } = await registry();
    const k = await r.createApiKey();
    const t = Date.parse("2026-01-01T00:00:00Z");
    await r.markApiKeyUsed(k.secretId, t);
    await r.markApiKeyUsed(k.secretId, t + 30_000);
    expect((await r.getApiKey(k.secretId))?.lastUsedAt).toBe("2026-01-01T00:00:00.000Z");
    await r.markApiKeyUsed(k.secretId, t + 61_000);
    expect((await r.getApiKey(k.secretId))?.lastUsedAt).toBe("2026-01-01T00:01:01.000Z");
  });

  it("ensureApiKey creates, updates, keeps, and never revives a revoked key", async () => {
    const { registry: r } = await registry();
    expect(await r.ensureApiKey("AKIDbootstrap", "s3cret")).toBe("created");
    expect(await r.secretFor("AKIDbootstrap")).toBe("s3cret");
    expect((await r.getApiKey("AKIDbootstrap"))?.name).toBe("bootstrap");
    expect(await r.ensureApiKey("AKIDbootstrap", "s3cret")).toBe("unchanged");
    expect(await r.ensureApiKey("AKIDbootstrap", "n3w")).toBe("updated");
    expect(await r.secretFor("AKIDbootstrap")).toBe("n3w");
    await r.revokeApiKey("AKIDbootstrap");
    expect(await r.ensureApiKey("AKIDbootstrap", "n3w")).toBe("revoked");
    expect(await r.secretFor("AKIDbootstrap")).toBeNull();
    await expect(r.ensureApiKey("bad/id", "x")).rejects.toThrow(/SecretId/);
    await expect(r.ensureApiKey("AKIDok", "has space")).rejects.toThrow(/SecretKey/);
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

  it("creates (printing the SecretKey once), lists without it, revokes", async () => {
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
