import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Store } from "../store/store";
import { ApiKeys } from "../keys/api-keys";
import { DeviceRegistry } from "./registry";
import { tempDir } from "../testing/servers";
import { closeAfterTest, domainErrorOf, testDatabase } from "../testing/db";

const registry = (): { registry: DeviceRegistry } => ({ registry: new DeviceRegistry(testDatabase()) });

describe("DeviceRegistry", () => {
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
    expect(list.map((x) => `${x.productId}/${x.deviceName}`)).toEqual([
      "AIRCOND001/bedroom",
      "AIRCOND001/kitchen",
      "AIRCOND001/other",
      "LAMP000001/hall:1_a-b",
    ]);
    expect(list[0]).toEqual({
      productId: "AIRCOND001",
      deviceName: "bedroom",
      disabled: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(JSON.stringify(list)).not.toContain(d.secret);
    expect(r.listDevices({ productId: "LAMP000001" })).toHaveLength(1);
    expect(r.getDeviceSecret("AIRCOND001", "kitchen")).toBe(d.secret);
    expect(r.getDeviceSecret("AIRCOND001", "nobody")).toBeNull();
  });

  it("refuses bad ids with invalid_request and field errors, and duplicates with a clear message", () => {
    const { registry: r } = registry();
    const bad = domainErrorOf(() => r.createDevice("lower", "a/b"));
    expect(bad.reason).toBe("invalid_input");
    expect(bad.fields?.map((f) => f.field)).toEqual(["productId", "deviceName"]);
    expect(domainErrorOf(() => r.createDevice("TOOLONGPRODUCT", "x")).reason).toBe("invalid_input");
    expect(domainErrorOf(() => r.createDevice("AIRCOND001", "x".repeat(49))).reason).toBe("invalid_input");
    r.createDevice("AIRCOND001", "kitchen");
    const dup = domainErrorOf(() => r.createDevice("AIRCOND001", "kitchen"));
    expect(dup.reason).toBe("device_exists");
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
    expect(domainErrorOf(() => r.deleteDevice("AIRCOND001", "kitchen")).reason).toBe("device_not_found");
    expect(domainErrorOf(() => r.setDisabled("AIRCOND001", "kitchen", true)).reason).toBe("device_not_found");
    // A re-created device gets a new secret.
    expect(r.createDevice("AIRCOND001", "kitchen").secret).not.toBe(d.secret);
  });

  it("answers deviceState from memory, changed by its own changes at once; a device another process registers is found", () => {
    const db = testDatabase();
    const r = new DeviceRegistry(db);
    // Another process's registry on the same file (`npm run device` registers devices while the hub runs).
    const other = new DeviceRegistry(db);
    r.createDevice("AIRCOND001", "kitchen");
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    // Kept: a change behind the registry's back is not seen (only the registry disables and deletes devices).
    db.prepare(`UPDATE devices SET disabled = 1 WHERE device_name = 'kitchen'`).run();
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    r.setDisabled("AIRCOND001", "kitchen", true);
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("disabled");
    r.setDisabled("AIRCOND001", "kitchen", false);
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    r.deleteDevice("AIRCOND001", "kitchen");
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("not_found");
    expect(r.deviceState("AIRCOND001", "hall")).toBe("not_found");
    other.createDevice("AIRCOND001", "hall");
    other.createDevice("AIRCOND001", "kitchen");
    expect(r.deviceState("AIRCOND001", "hall")).toBe("ok");
    expect(r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    // A refused change leaves the state right too.
    expect(domainErrorOf(() => r.setDisabled("AIRCOND001", "nobody", true)).reason).toBe("device_not_found");
    expect(r.deviceState("AIRCOND001", "nobody")).toBe("not_found");
  });
});

describe("one SQLite file", () => {
  it("lives in the Store's SQLite file beside the calls, and survives reopening", () => {
    const path = join(tempDir(), "rrpc.db");
    const store = new Store(path);
    const r = new DeviceRegistry(store.db);
    const k = new ApiKeys(store.db).createApiKey("persisted");
    r.createDevice("AIRCOND001", "kitchen");
    store.close();
    const again = new Store(path);
    closeAfterTest(again);
    expect(new ApiKeys(again.db).secretFor(k.secretId)).toBe(k.secretKey);
    expect(new DeviceRegistry(again.db).listDevices()).toHaveLength(1);
  });
});
