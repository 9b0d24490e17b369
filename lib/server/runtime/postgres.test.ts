/**
 * A whole hub on PostgreSQL (DATABASE_URL): devices, keys, calls, commands, batches and stats
 * through the real HTTP API, kept across a restart, and two hubs on one database. Fails under
 * CI without PostgreSQL (testing/backends.ts); elsewhere it is skipped, loudly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRequest, startInProcessHub, type InProcessHub } from "../testing/hub";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { postgresBin, startPostgres, type Postgres } from "../testing/postgres";
import { waitFor } from "../testing/servers";
import type { BatchJson } from "../../rrpc/batch";

const P = "PGHUB00001";
const available = postgresBin() !== null || !!process.env.CI;
if (!available) console.warn("PostgreSQL not installed (apt-get install postgresql): the hub-on-PostgreSQL tests are SKIPPED");

describe.runIf(available)("a hub on PostgreSQL", () => {
  let pg: Postgres;
  const open: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    for (const o of open.splice(0).reverse()) await o.stop();
    await pg?.stop();
  });
  const hubOn = async (url: string) => {
    const h = await startInProcessHub({ DATABASE_URL: url });
    open.push(h);
    return h;
  };
  const deviceOn = async (h: InProcessHub, deviceName: string, secret: string): Promise<SimDevice> => {
    const d = await startSimDevice({ url: h.mqttUrl, productId: P, deviceName, secret, reply: "ok" });
    open.push(d);
    return d;
  };

  it("keeps devices, keys, calls, commands and batches in the database, across a restart", async () => {
    const url = await pg.createDatabase();
    const a = await hubOn(url);
    const dev = await apiRequest<{ secret: string }>(a.url, "POST", "/api/devices", { productId: P, deviceName: "lamp" });
    expect(dev.status).toBe(201);
    await deviceOn(a, "lamp", dev.body.secret);
    const key = await apiRequest<{ secretId: string }>(a.url, "POST", "/api/keys", { name: "ci" });
    expect(key.status).toBe(201);
    const call = await apiRequest<{ processId: string; status: string }>(a.url, "POST", "/api/calls", {
      productId: P,
      deviceName: "lamp",
      payload: "on",
    });
    expect(call.body.status).toBe("success");
    const cmd = await apiRequest<{ id: string }>(a.url, "POST", "/api/commands", { name: "On", payload: "on", encoding: "utf8", params: [] });
    expect(cmd.status).toBe(201);
    const batch = await apiRequest<BatchJson>(a.url, "POST", "/api/batches?wait=1", { targets: { productId: P }, commandId: cmd.body.id });
    expect(batch.body).toMatchObject({ status: "done", counts: { success: 1 } });
    const devices = await apiRequest<{ devices: { deviceName: string; calls: number }[] }>(a.url, "GET", "/api/devices");
    expect(devices.body.devices).toEqual([expect.objectContaining({ deviceName: "lamp", calls: 2 })]);
    const stats = await apiRequest<{ buckets: { success: number }[] }>(a.url, "GET", "/api/stats");
    expect(stats.body.buckets.reduce((n, b) => n + b.success, 0)).toBe(2);
    await a.stop();
    open.splice(open.indexOf(a), 1);

    const b = await hubOn(url);
    const again = await apiRequest<{ processId: string; status: string; reply?: { payloadText?: string } }>(
      b.url,
      "GET",
      `/api/calls/${call.body.processId}`,
    );
    expect(again.body).toMatchObject({ status: "success", reply: { payloadText: "ok" } });
    const keys = await apiRequest<{ keys: { secretId: string }[] }>(b.url, "GET", "/api/keys");
    expect(keys.body.keys.map((k) => k.secretId)).toEqual([key.body.secretId]);
    const batches = await apiRequest<{ batches: BatchJson[] }>(b.url, "GET", "/api/batches");
    expect(batches.body.batches.map((x) => x.batchId)).toEqual([batch.body.batchId]);
    // The device logs in to the new hub with the secret kept in PostgreSQL.
    await deviceOn(b, "lamp", dev.body.secret);
    const next = await apiRequest<{ processId: string; status: string }>(b.url, "POST", "/api/calls", {
      productId: P,
      deviceName: "lamp",
      payload: "off",
    });
    expect(next.body.status).toBe("success");
    expect(Number(next.body.processId)).toBeGreaterThan(Number(call.body.processId));
  });

  it("lets two hubs share one database: each sees the other's devices and calls", async () => {
    const url = await pg.createDatabase();
    const a = await hubOn(url);
    const b = await hubOn(url);
    const dev = await apiRequest<{ secret: string }>(a.url, "POST", "/api/devices", { productId: P, deviceName: "fan" });
    await deviceOn(b, "fan", dev.body.secret);
    const call = await apiRequest<{ processId: string; status: string }>(b.url, "POST", "/api/calls", {
      productId: P,
      deviceName: "fan",
      payload: "x",
    });
    expect(call.body.status).toBe("success");
    const seen = await waitFor(async () => {
      const r = await apiRequest<{ status: string }>(a.url, "GET", `/api/calls/${call.body.processId}`);
      return r.status === 200 ? r.body : null;
    }, "the call on the other hub");
    expect(seen.status).toBe("success");
  });
});
