/**
 * Attack suite (issue: hardening), finding 6 — a device flooding replies to a call that has
 * ended (duplicates on its own topic, and "foreign" replies naming another device's call) slowed
 * every other call, grew the trace without bound and rewrote it once per batch. Against the
 * production server: while two devices flood, calls to a third keep succeeding within their own
 * timeout; each flooded call keeps at most 100 extra replies, the rest are only counted; memory
 * and the WAL stay bounded. The flood's pace and the probes' latencies are printed, not asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statSync } from "node:fs";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { registerDevice, rssMiB, startServer, waitFor, type ServerHandle } from "../testing/servers";
import { replyTopic } from "../../rrpc/topics";
import type { ApiErrorBody, Health } from "../../rrpc/api";
import type { CallJson } from "../../rrpc/types";
import { EXTRA_REPLIES_KEPT } from "./hub";

const PRODUCT = "FLOODPROD1";
const FLOOD = 20_000;
let s: ServerHandle;
const sims: SimDevice[] = [];
beforeAll(async () => {
  s = await startServer({ RRPC_SIMULATOR: "0" });
});
afterAll(async () => {
  for (const d of sims) await d.stop();
  await s?.stop();
});

async function device(deviceName: string): Promise<SimDevice> {
  const secret = await registerDevice(s, PRODUCT, deviceName);
  const d = await startSimDevice({ url: `mqtt://127.0.0.1:${s.mqttPort}`, productId: PRODUCT, deviceName, secret, reply: "ok" });
  sims.push(d);
  return d;
}

async function call(deviceName: string, timeoutMs = 4000): Promise<{ status: number; call?: CallJson }> {
  const r = await fetch(`${s.url}/api/calls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT, deviceName, payload: "probe", timeoutMs }),
  });
  const body = (await r.json()) as CallJson | ApiErrorBody;
  return { status: r.status, call: r.status === 200 ? (body as CallJson) : (body as ApiErrorBody).call };
}

const rssMb = () => rssMiB(s.proc.pid!);

describe("finding 6: reply floods", () => {
  it("cost the flooding devices only: other calls succeed, each trace keeps 100 extra replies, memory and the WAL stay bounded", async () => {
    const flooder = await device("flooder");
    const neighbour = await device("neighbour");
    await device("probe");
    const target = (await call("flooder")).call!;
    expect(target.status).toBe("success");
    const rssBefore = rssMb();
    const health0 = (await (await fetch(`${s.url}/api/health`)).json()) as Health;

    const payload = Buffer.alloc(1024, 120);
    const t0 = performance.now();
    // Duplicates on the flooder's own topic, and replies naming its call from another device.
    for (let i = 0; i < FLOOD; i++) {
      flooder.client.publish(replyTopic(PRODUCT, "flooder", target.processId), payload, { qos: 0 });
      neighbour.client.publish(replyTopic(PRODUCT, "neighbour", target.processId), payload, { qos: 0 });
    }
    const probes: { status: number; ms: number }[] = [];
    let flooded = false;
    const floodDone = waitFor(
      async () => {
        const h = (await (await fetch(`${s.url}/api/health`)).json()) as Health;
        const n = h.replies.duplicate + h.replies.foreign - health0.replies.duplicate - health0.replies.foreign;
        return n >= 2 * FLOOD ? (flooded = true) : null;
      },
      "the server to take in the whole flood",
      120_000,
      100,
    );
    while (!flooded) {
      const p0 = performance.now();
      const r = await call("probe");
      probes.push({ status: r.status, ms: performance.now() - p0 });
    }
    await floodDone;
    const floodMs = performance.now() - t0;

    // Every probe succeeded within its own 4 s timeout.
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.status !== 200)).toEqual([]);
    const stored = (await (await fetch(`${s.url}/api/calls/${target.processId}`)).json()) as CallJson;
    const extra = stored.events.filter((e) => e.type === "duplicate_reply" || e.type === "foreign_reply" || e.type === "late_reply");
    expect(extra).toHaveLength(EXTRA_REPLIES_KEPT);
    const health = (await (await fetch(`${s.url}/api/health`)).json()) as Health;
    expect(health.replies.unrecorded - health0.replies.unrecorded).toBe(2 * FLOOD - EXTRA_REPLIES_KEPT);
    // 40,000 replies of 1 KiB: nothing of them is kept beyond the trace's 100 events.
    expect(rssMb() - rssBefore).toBeLessThan(200);
    expect(statSync(`${s.dbPath}-wal`).size).toBeLessThan(64 * 1024 * 1024);

    const ms = probes.map((p) => p.ms).sort((a, b) => a - b);
    console.log(
      `reply flood: ${2 * FLOOD} replies taken in ${floodMs.toFixed(0)} ms (${((2 * FLOOD) / (floodMs / 1000)).toFixed(0)}/s); ` +
        `${probes.length} probe calls meanwhile, p50 ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} ms, max ${ms.at(-1)!.toFixed(1)} ms; ` +
        `RSS ${rssBefore.toFixed(0)} → ${rssMb().toFixed(0)} MB`,
    );
  });
});
