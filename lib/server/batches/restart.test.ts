/**
 * A hub that stops mid-batch, by kill -9 or SIGTERM, through the production server: on the next
 * start the batch has ended `interrupted`, every target counted once, the unsent ones counted as
 * such, and the restarted hub takes new batches.
 */
import { afterAll, describe, expect, it } from "vitest";
import { registerDevice, startServer, waitFor, type ServerHandle } from "../testing/servers";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import type { BatchJson, CallsPage } from "../../rrpc/api";

const P = "RESTARTP01";

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as T };
}
const post = (url: string, body: unknown) =>
  json<BatchJson>(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe.each(["SIGKILL", "SIGTERM"] as const)("a hub stopped by %s mid-batch", (signal) => {
  const devices: SimDevice[] = [];
  let server: ServerHandle | null = null;
  afterAll(async () => {
    for (const d of devices) await d.stop();
    await server?.stop();
  });

  it("ends the batch interrupted on the next start, every target counted once", async () => {
    server = await startServer({ RRPC_SIMULATOR: "0" });
    const first = server;
    const url = `mqtt://127.0.0.1:${first.mqttPort}`;
    const names: string[] = [];
    for (let i = 0; i < 30; i++) {
      const name = `d${i}`;
      names.push(name);
      const secret = await registerDevice(first, P, name);
      // Five answer; the others keep their calls in flight until the hub stops.
      devices.push(await startSimDevice({ url, productId: P, deviceName: name, secret, silent: i >= 5 }));
    }
    const started = await post(`${first.url}/api/batches`, {
      targets: { devices: names.map((deviceName) => ({ productId: P, deviceName })) },
      payload: "status",
      timeoutMs: 120_000,
      concurrency: 10,
    });
    expect(started.status).toBe(202);
    const id = started.body.batchId;
    // Five answered and ten in flight, written (a pending call is written once it is 250 ms old).
    await waitFor(async () => {
      const calls = (await json<CallsPage>(`${first.url}/api/calls?batchId=${id}&limit=100`)).body.calls;
      return calls.length === 15 && calls.filter((c) => c.status === "success").length === 5;
    }, "5 answered and 10 pending calls to be written");
    await first.stop(signal);
    for (const d of devices.splice(0)) await d.stop();

    server = await startServer({ RRPC_SIMULATOR: "0", RRPC_DB: first.dbPath });
    const b = (await json<BatchJson>(`${server.url}/api/batches/${id}`)).body;
    expect(b.status).toBe("interrupted");
    expect(b.counts).toMatchObject({ pending: 0, success: 5, interrupted: 25 });
    expect(Object.values(b.counts).reduce((a, n) => a + n, 0)).toBe(30);
    expect(b.unsent).toBe(15);
    expect(b.endedAt).toBeDefined();
    const calls = (await json<CallsPage>(`${server.url}/api/calls?batchId=${id}&limit=100`)).body.calls;
    expect(calls.filter((c) => c.status === "interrupted")).toHaveLength(10);

    // The restarted hub takes work again.
    const url2 = `mqtt://127.0.0.1:${server.mqttPort}`;
    const secret = await registerDevice(server, P, "fresh");
    devices.push(await startSimDevice({ url: url2, productId: P, deviceName: "fresh", secret }));
    const again = await post(`${server.url}/api/batches?wait=1`, { targets: { devices: [{ productId: P, deviceName: "fresh" }] }, payload: "x" });
    expect(again.status).toBe(200);
    expect(again.body.counts.success).toBe(1);
  });
});
