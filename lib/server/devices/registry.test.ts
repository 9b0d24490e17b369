import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Store } from "../store/store";
import { ApiError } from "../core/errors";
import { parseBootstrapKey, Registry } from "./registry";
import { tempDir } from "../testing/servers";

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

function registry(path = ":memory:"): { registry: Registry; db: Database.Database } {
  const db = new Database(path);
  open.push(db);
  return { registry: new Registry(db), db };
}

function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (ApiError.is(err)) return err;
    throw err;
  }
  throw new Error("no error thrown");
}

describe("Registry: devices", () => {
  it("creates devices with a Tencent-style secret, lists them without it", () => {
    const { registry: r } = registry();
    const d = r.createDevice("AIRCOND001", "kitchen");
    expect(d.productId).toBe("AIRCOND001");
    expect(d.deviceName).toBe("kitchen");
    expect(d.secret).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(Buffer.from(d.secret, "base64")).toHaveLength(16);
    r.createDevice("AIRCOND001", "bedroom");
    r.createDevice("LAMP000001", "hall:1_a-b");
    expect(r.createDevice("AIRCOND001", "other").secret).not.toBe(d.secret);

    const list = r.listDevices();
    expect(list.map((x) => `${x.productId}/${x.deviceName}`)).toEqual(["AIRCOND001/bedroom", "AIRCOND001/kitchen", "AIRCOND001/other", "LAMP000001/hall:1_a-b"]);
    expect(list[0]).toEqual({ productId: "AIRCOND001", deviceName: "bedroom", disabled: false, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(JSON.stringify(list)).not.toContain(d.secret);
    expect(r.listDevices({ productId: "LAMP000001" })).toHaveLength(1);
    expect(r.getDeviceSecret("AIRCOND001", "kitchen")).toBe(d.secret);
    expect(r.getDeviceSecret("AIRCOND001", "nobody")).toBeNull();
  });

  it("refuses bad ids with invalid_request and field errors, and duplicates with a clear message", () => {
    const { registry: r } = registry();
    const bad = apiErrorOf(() => r.createDevice("lower", "a/b"));
    expect(bad.code).toBe("invalid_request");
    expect(bad.fields?.map((f) => f.field)).toEqual(["productId", "deviceName"]);
    expect(apiErrorOf(() => r.createDevice("TOOLONGPRODUCT", "x")).code).toBe("invalid_request");
    expect(apiErrorOf(() => r.createDevice("AIRCOND001", "x".repeat(49))).code).toBe("invalid_request");
    r.createDevice("AIRCOND001", "kitchen");
    const dup = apiErrorOf(() => r.createDevice("AIRCOND001", "kitchen"));
    expect(dup.code).toBe("conflict");
    expect(dup.message).toBe("device AIRCOND001/kitchen already exists");
  });

  it("disables, enables and deletes; unknown devices are device_not_found", () => {
    const { registry: r } = registry();
    const d = r.createDevice("AIRCOND001", "kitchen");
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    expect(r.setDisabled("AIRCOND001", "kitchen", true).disabled).toBe(true);
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("disabled");
    expect(r.deviceAuthRecord("AIRCOND001", "kitchen")).toEqual({ secret: d.secret, disabled: true });
    expect(r.setDisabled("AIRCOND001", "kitchen", false).disabled).toBe(false);
    r.deleteDevice("AIRCOND001", "kitchen");
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("not_found");
    expect(r.deviceAuthRecord("AIRCOND001", "kitchen")).toBeNull();
    expect(apiErrorOf(() => r.deleteDevice("AIRCOND001", "kitchen")).code).toBe("device_not_found");
    expect(apiErrorOf(() => r.setDisabled("AIRCOND001", "kitchen", true)).code).toBe("device_not_found");
    // A re-created device gets a new secret.
    expect(r.createDevice("AIRCOND001", "kitchen").secret).not.toBe(d.secret);
  });
});

describe("Registry: API keys", () => {
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
    });
    expect(list.find((x) => x.secretId === k2.secretId)?.name).toBeNull();
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
    expect(apiErrorOf(() => r.revokeApiKey("AKIDnope")).code).toBe("not_found");
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

  it("lives in the Store's SQLite file beside the calls, and survives reopening", () => {
    const path = join(tempDir(), "rrpc.db");
    const store = new Store(path);
    const r = new Registry(store.db);
    const k = r.createApiKey("persisted");
    r.createDevice("AIRCOND001", "kitchen");
    store.close();
    const again = new Store(path);
    open.push(again);
    const r2 = new Registry(again.db);
    expect(r2.secretFor(k.secretId)).toBe(k.secretKey);
    expect(r2.listDevices()).toHaveLength(1);
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
