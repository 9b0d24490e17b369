import { describe, expect, it } from "vitest";
import { ApiKeys } from "../keys/api-keys";
import { DeviceRegistry, STATE_CACHE_MS } from "./registry";
import { clientIdSplits } from "../auth/device-auth";
import { closeAfterTest, domainErrorOf } from "../testing/db";
import { storeBackends } from "../testing/backends";

describe.each(storeBackends())("DeviceRegistry on $name", (backend) => {
  const registry = async (): Promise<{ registry: DeviceRegistry }> => ({ registry: new DeviceRegistry(closeAfterTest(await backend.open())) });

  it("creates devices with a Tencent-style secret, lists them without it", async () => {
    const { registry: r } = await registry();
    const d = await r.createDevice("AIRCOND001", "kitchen");
    expect(d.productId).toBe("AIRCOND001");
    expect(d.deviceName).toBe("kitchen");
    expect(d.secret).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(Buffer.from(d.secret, "base64")).toHaveLength(16);
    await r.createDevice("AIRCOND001", "bedroom");
    await r.createDevice("LAMP000001", "hall:1_a-b");
    expect((await r.createDevice("AIRCOND001", "other")).secret).not.toBe(d.secret);

    const list = await r.listDevices();
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
    expect(await r.listDevices({ productId: "LAMP000001" })).toHaveLength(1);
    expect(await r.getDeviceSecret("AIRCOND001", "kitchen")).toBe(d.secret);
    expect(await r.getDeviceSecret("AIRCOND001", "nobody")).toBeNull();
  });

  it("refuses bad ids with invalid_request and field errors, and duplicates with a clear message", async () => {
    const { registry: r } = await registry();
    const bad = await domainErrorOf(() => r.createDevice("lower", "a/b"));
    expect(bad.reason).toBe("invalid_input");
    expect(bad.fields?.map((f) => f.field)).toEqual(["productId", "deviceName"]);
    expect((await domainErrorOf(() => r.createDevice("TOOLONGPRODUCT", "x"))).reason).toBe("invalid_input");
    expect((await domainErrorOf(() => r.createDevice("AIRCOND001", "x".repeat(49)))).reason).toBe("invalid_input");
    await r.createDevice("AIRCOND001", "kitchen");
    const dup = await domainErrorOf(() => r.createDevice("AIRCOND001", "kitchen"));
    expect(dup.reason).toBe("device_exists");
    expect(dup.message).toBe("device AIRCOND001/kitchen already exists");
  });

  it("disables, enables and deletes; unknown devices are device_not_found", async () => {
    const { registry: r } = await registry();
    const d = await r.createDevice("AIRCOND001", "kitchen");
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    expect((await r.setDisabled("AIRCOND001", "kitchen", true)).disabled).toBe(true);
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("disabled");
    expect(await r.deviceAuthRecord("AIRCOND001", "kitchen")).toEqual({ secret: d.secret, disabled: true });
    expect((await r.setDisabled("AIRCOND001", "kitchen", false)).disabled).toBe(false);
    await r.deleteDevice("AIRCOND001", "kitchen");
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("not_found");
    expect(await r.deviceAuthRecord("AIRCOND001", "kitchen")).toBeNull();
    expect((await domainErrorOf(() => r.deleteDevice("AIRCOND001", "kitchen"))).reason).toBe("device_not_found");
    expect((await domainErrorOf(() => r.setDisabled("AIRCOND001", "kitchen", true))).reason).toBe("device_not_found");
    // A re-created device gets a new secret.
    expect((await r.createDevice("AIRCOND001", "kitchen")).secret).not.toBe(d.secret);
  });

  it("reads the records of every way a client id splits in one query: the registered ones only, disabled or not", async () => {
    const { registry: r } = await registry();
    // "ABCDEFGHIJdev1" splits as ABCDEFGHIJ + dev1 and as ABCDEFGHI + Jdev1, both registered.
    const a = await r.createDevice("ABCDEFGHIJ", "dev1");
    const b = await r.createDevice("ABCDEFGHI", "Jdev1");
    await r.setDisabled("ABCDEFGHI", "Jdev1", true);
    await r.createDevice("ABCDEFGHIJ", "dev2");
    const splits = clientIdSplits("ABCDEFGHIJdev1");
    expect(splits.length).toBeGreaterThan(2);
    const records = await r.deviceAuthRecords(splits);
    expect(records).toEqual(
      new Map([
        ["ABCDEFGHIJ/dev1", { secret: a.secret, disabled: false }],
        ["ABCDEFGHI/Jdev1", { secret: b.secret, disabled: true }],
      ]),
    );
    expect(await r.deviceAuthRecords([])).toEqual(new Map());
  });

  it("answers deviceState from memory: its own changes at once, another hub's within STATE_CACHE_MS; a device registered elsewhere is found at once", async () => {
    const db = closeAfterTest(await backend.open());
    let now = 0;
    const r = new DeviceRegistry(db, () => now);
    // Another hub's (or `npm run device`'s) registry on the same database.
    const other = new DeviceRegistry(db);
    await r.createDevice("AIRCOND001", "kitchen");
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    await other.setDisabled("AIRCOND001", "kitchen", true);
    now += STATE_CACHE_MS - 1;
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    now += 1;
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("disabled");
    await r.setDisabled("AIRCOND001", "kitchen", false);
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    await r.deleteDevice("AIRCOND001", "kitchen");
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("not_found");
    expect(await r.deviceState("AIRCOND001", "hall")).toBe("not_found");
    await other.createDevice("AIRCOND001", "hall");
    await other.createDevice("AIRCOND001", "kitchen");
    expect(await r.deviceState("AIRCOND001", "hall")).toBe("ok");
    expect(await r.deviceState("AIRCOND001", "kitchen")).toBe("ok");
    // A refused change leaves the state right too.
    expect((await domainErrorOf(() => r.setDisabled("AIRCOND001", "nobody", true))).reason).toBe("device_not_found");
    expect(await r.deviceState("AIRCOND001", "nobody")).toBe("not_found");
    // Listing a product's devices (a batch does) remembers their states as of the listing.
    now += STATE_CACHE_MS;
    expect((await r.listDevices({ productId: "AIRCOND001" })).map((d) => d.deviceName)).toEqual(["hall", "kitchen"]);
    await other.setDisabled("AIRCOND001", "hall", true);
    now += STATE_CACHE_MS - 1;
    expect(await r.deviceState("AIRCOND001", "hall")).toBe("ok");
    now += 1;
    expect(await r.deviceState("AIRCOND001", "hall")).toBe("disabled");
  });
});

describe.each(storeBackends())("one database on $name", (backend) => {
  it("holds devices and keys beside the calls, and they survive reopening", async () => {
    const at = await backend.location();
    const store = await backend.openCalls(at);
    const r = new DeviceRegistry(store.sql);
    const k = await new ApiKeys(store.sql).createApiKey("persisted");
    await r.createDevice("AIRCOND001", "kitchen");
    await store.close();
    const again = closeAfterTest(await backend.openCalls(at));
    expect(await new ApiKeys(again.sql).secretFor(k.secretId)).toBe(k.secretKey);
    expect(await new DeviceRegistry(again.sql).listDevices()).toHaveLength(1);
  });
});
