/**
 * Per-product request-size limits through the real routes, runtime, embedded broker and SQLite
 * file: a payload over its product's limit is refused before anything is published, by every
 * entry point (native API, Tencent's PublishRRPCMessage, a saved command, a batch at its start),
 * and the limit outlives a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { tempDir } from "../testing/servers";
import { apiRequest, publishRrpc, startInProcessHub, type InProcessHub } from "../testing/hub";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import type { Command, Limits, ProductInfo, ProductList } from "../../rrpc/api";

const P = "SMALLBUF1";
const OTHER = "BIGBUF1";
const KEY = { secretId: "AKIDproductlimits000000000000000001", secretKey: "productLimitsSecretKey0000000001" };
const LIMIT_MESSAGE = `the payload is 3000 bytes; product ${P} accepts at most 2048 (its devices' receive buffer)`;

type Hub = InProcessHub;

const startHub = (db: string) => startInProcessHub({ RRPC_DB: db, RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
const api = <T = Record<string, unknown>>(h: Hub, method: string, path: string, body?: unknown) => apiRequest<T>(h.url, method, path, body);

async function tencent(h: Hub, productId: string, deviceName: string, payload: string) {
  const r = await publishRrpc(h.url, KEY, { ProductId: productId, DeviceName: deviceName, Payload: payload });
  expect(r.status).toBe(200);
  return r.response;
}

const bytes = (n: number) => "x".repeat(n);

let db: string;
let h: Hub;
const devices: SimDevice[] = [];
let device: SimDevice;

async function startDevice(hub: Hub, productId: string, deviceName: string): Promise<SimDevice> {
  const secret = (await hub.rt.devices.getDeviceSecret(productId, deviceName)) ?? (await hub.rt.devices.createDevice(productId, deviceName)).secret;
  const d = await startSimDevice({ url: `mqtt://127.0.0.1:${hub.rt.broker!.tcpPort}`, productId, deviceName, secret, reply: "ok" });
  devices.push(d);
  return d;
}

/** A small call that succeeds: once it has, anything published before it on the same topic has arrived (MQTT keeps order). */
async function small(hub: Hub, deviceName = "dev1") {
  const r = await api(hub, "POST", "/api/calls", { productId: P, deviceName, payload: "ping" });
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  db = join(tempDir(), "rrpc.db");
  h = await startHub(db);
  device = await startDevice(h, P, "dev1");
  await startDevice(h, P, "dev2");
  await startDevice(h, OTHER, "dev1");
});
afterAll(async () => {
  for (const d of devices) await d.stop();
  await h?.stop();
});

describe("per-product request-size limits", () => {
  it("lists products with their settings, and sets a limit", async () => {
    const before = await api<ProductList>(h, "GET", "/api/products");
    expect(before.status).toBe(200);
    expect(before.body.products).toEqual([
      { productId: OTHER, devices: 1, maxRequestBytes: null, effectiveMaxRequestBytes: 131072, updatedAt: null },
      { productId: P, devices: 2, maxRequestBytes: null, effectiveMaxRequestBytes: 131072, updatedAt: null },
    ]);
    const set = await api<ProductInfo>(h, "PUT", `/api/products/${P}`, { maxRequestBytes: 2048 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ productId: P, devices: 2, maxRequestBytes: 2048, effectiveMaxRequestBytes: 2048 });
    expect(Date.parse(set.body.updatedAt!)).not.toBeNaN();
    expect((await api<ProductInfo>(h, "GET", `/api/products/${P}`)).body).toEqual(set.body);
    expect((await api<Limits>(h, "GET", "/api/limits")).body.productLimits).toEqual({ [P]: 2048 });
  });

  it("native API: 2048 bytes pass, 3000 bytes are refused 413 naming the product's limit and reach no device", async () => {
    const ok = await api(h, "POST", "/api/calls", { productId: P, deviceName: "dev1", payload: bytes(2048) });
    expect(ok.status).toBe(200);
    await small(h);
    const received = device.received;
    const refused = await api(h, "POST", "/api/calls", { productId: P, deviceName: "dev1", payload: bytes(3000) });
    expect(refused.status).toBe(413);
    expect(refused.body.error).toEqual({
      code: "payload_too_large",
      message: LIMIT_MESSAGE,
      fields: [{ field: "payload", message: `at most 2048 bytes for product ${P}` }],
    });
    await small(h);
    expect(device.received).toBe(received + 1);
    // Another product keeps the global limit.
    expect((await api(h, "POST", "/api/calls", { productId: OTHER, deviceName: "dev1", payload: bytes(3000) })).status).toBe(200);
  });

  it("Tencent's PublishRRPCMessage: refused with its payload-over-limit code", async () => {
    await small(h);
    const received = device.received;
    const ok = await tencent(h, P, "dev1", bytes(2048));
    expect(ok.PayloadBase64).toBe(Buffer.from("ok").toString("base64"));
    const refused = await tencent(h, P, "dev1", bytes(3000));
    expect(refused.Error).toEqual({ Code: "InvalidParameterValue.PayloadOverLimit", Message: LIMIT_MESSAGE });
    await small(h);
    expect(device.received).toBe(received + 2);
  });

  it("a saved command: refused when its rendered payload is over the limit", async () => {
    const cmd = await api<Command>(h, "POST", "/api/commands", {
      name: "fill",
      payload: "t={{text}}",
      params: [{ name: "text", type: "string" }],
    });
    expect(cmd.status, JSON.stringify(cmd.body)).toBe(201);
    await small(h);
    const received = device.received;
    const ok = await api(h, "POST", "/api/calls", { productId: P, deviceName: "dev1", commandId: cmd.body.id, params: { text: bytes(2046) } });
    expect(ok.status).toBe(200);
    const refused = await api(h, "POST", "/api/calls", { productId: P, deviceName: "dev1", commandId: cmd.body.id, params: { text: bytes(2998) } });
    expect(refused.status).toBe(413);
    expect(refused.body.error?.message).toBe(LIMIT_MESSAGE);
    await small(h);
    expect(device.received).toBe(received + 2);
  });

  it("a batch over the limit is refused at its start, not target by target", async () => {
    await small(h);
    const received = device.received;
    const batchesBefore = (await api<{ batches: unknown[] }>(h, "GET", "/api/batches")).body.batches.length;
    for (const targets of [
      { productId: P },
      {
        devices: [
          { productId: OTHER, deviceName: "dev1" },
          { productId: P, deviceName: "dev1" },
        ],
      },
    ]) {
      const refused = await api(h, "POST", "/api/batches", { targets, payload: bytes(3000) });
      expect(refused.status).toBe(413);
      expect(refused.body.error).toMatchObject({ code: "payload_too_large", message: LIMIT_MESSAGE });
    }
    expect((await api<{ batches: unknown[] }>(h, "GET", "/api/batches")).body.batches.length).toBe(batchesBefore);
    const ok = await api<{ status: string; counts: { success: number } }>(h, "POST", "/api/batches?wait=1", {
      targets: { productId: P },
      payload: bytes(2048),
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "done", counts: { success: 2 } });
    await small(h);
    expect(device.received).toBe(received + 2);
  });

  it("refuses bad settings with the field named", async () => {
    for (const body of [{ maxRequestBytes: 0 }, { maxRequestBytes: 1.5 }, { maxRequestBytes: "2048" }, {}, { maxRequestBytes: 2048, other: 1 }]) {
      const r = await api(h, "PUT", `/api/products/${P}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.code).toBe("invalid_request");
      expect(r.body.error?.fields?.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
    const over = await api(h, "PUT", `/api/products/${P}`, { maxRequestBytes: 131073 });
    expect(over.status).toBe(400);
    expect(over.body.error?.fields).toEqual([{ field: "maxRequestBytes", message: "from 1 to RRPC_MAX_PAYLOAD (131072 bytes), or null" }]);
    const badId = await api(h, "PUT", "/api/products/lower", { maxRequestBytes: 10 });
    expect(badId.status).toBe(400);
    expect(badId.body.error?.fields?.[0]?.field).toBe("productId");
    expect((await api(h, "PUT", `/api/products/${P}`, "not json")).status).toBe(400);
    expect((await api<ProductInfo>(h, "GET", `/api/products/${P}`)).body.maxRequestBytes).toBe(2048);
  });

  it("keeps the limit over a restart", async () => {
    for (const d of devices.splice(0)) await d.stop();
    await h.stop();
    h = await startHub(db);
    device = await startDevice(h, P, "dev1");
    expect((await api<ProductInfo>(h, "GET", `/api/products/${P}`)).body).toMatchObject({ maxRequestBytes: 2048 });
    const refused = await api(h, "POST", "/api/calls", { productId: P, deviceName: "dev1", payload: bytes(3000) });
    expect(refused.status).toBe(413);
    expect(refused.body.error?.message).toBe(LIMIT_MESSAGE);
  });

  it("clearing the limit lets 3000 bytes through", async () => {
    const cleared = await api<ProductInfo>(h, "PUT", `/api/products/${P}`, { maxRequestBytes: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ maxRequestBytes: null, effectiveMaxRequestBytes: 131072 });
    expect((await api<Limits>(h, "GET", "/api/limits")).body.productLimits).toEqual({});
    const ok = await api(h, "POST", "/api/calls", { productId: P, deviceName: "dev1", payload: bytes(3000) });
    expect(ok.status).toBe(200);
    const batch = await api(h, "POST", "/api/batches?wait=1", { targets: { devices: [{ productId: P, deviceName: "dev1" }] }, payload: bytes(3000) });
    expect(batch.status).toBe(200);
  });
});
