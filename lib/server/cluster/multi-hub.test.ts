/**
 * Three production hubs on one PostgreSQL and one Mosquitto act as one hub (docs/scale-out.md):
 * a device registered through one is callable through all; calls through every API (native and
 * Tencent's PublishRRPCMessage) each get their own reply; any hub reads any call; the live feed on
 * the broker carries every hub's calls; a hub killed -9 with calls and a batch in flight has them
 * ended `interrupted` by the others; started again, it takes calls. Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { MqttClient } from "mqtt";
import { randomBytes } from "node:crypto";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { registerDevice, startMosquitto, startServer, waitFor, type Mosquitto, type ServerHandle } from "../testing/servers";
import { startPostgres, type Postgres } from "../testing/postgres";
import { apiRequest, publishRrpc } from "../testing/hub";
import { LIVE_CALLS_TOPIC, type LiveCallUpdate } from "../../rrpc/live";
import type { CallJson } from "../../rrpc/types";
import type { BatchJson } from "../../rrpc/batch";

const P = "MULTIHUB01";
const KEY = { secretId: "AKIDmultihub0000000000000000000000", secretKey: "multihub-secret-key-0123456789abcdef" };
/** A short lease (the default is 15 s), with room for a busy machine: a hub must not miss it while alive. */
const LEASE_MS = 6000;

let pg: Postgres;
let mosquitto: Mosquitto;
let env: Record<string, string>;
const hubs: ServerHandle[] = [];
const devices: SimDevice[] = [];
let live: MqttClient;
const liveSeen = new Map<string, LiveCallUpdate>();
/** Every processId any call of this file got. */
const ids: string[] = [];

const text = (b64?: string) => (b64 === undefined ? undefined : Buffer.from(b64, "base64").toString());
const unique = (tag: string) => `${tag}-${randomBytes(6).toString("hex")}`;

async function call(hub: ServerHandle, deviceName: string, payload: string, timeoutMs = 4000) {
  const r = await apiRequest<CallJson & { call?: CallJson }>(hub.url, "POST", "/api/calls", { productId: P, deviceName, payload, timeoutMs });
  const c = r.status === 200 ? r.body : r.body.call;
  if (c) ids.push(c.processId);
  return { status: r.status, call: c };
}

beforeAll(async () => {
  [pg, mosquitto] = await Promise.all([startPostgres(), startMosquitto()]);
  env = {
    DATABASE_URL: await pg.createDatabase(),
    MQTT_URL: mosquitto.url,
    RRPC_SIMULATOR: "0",
    RRPC_HUB_LEASE_MS: String(LEASE_MS),
    RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}`,
  };
  hubs.push(await startServer(env));
  hubs.push(...(await Promise.all([startServer(env), startServer(env)])));
  live = connectMqtt(mosquitto.url, { clientId: `rrpc-live-test-${randomBytes(3).toString("hex")}`, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((r) => live.once("connect", () => r()));
  live.on("message", (_t, payload) => {
    for (const u of JSON.parse(payload.toString()) as LiveCallUpdate[]) liveSeen.set(u.processId, u);
  });
  await new Promise<void>((r) => live.subscribe(LIVE_CALLS_TOPIC, { qos: 0 }, () => r()));
}, 120_000);

afterAll(async () => {
  if (live) await endMqtt(live, true);
  for (const d of devices) await d.stop();
  for (const h of hubs) await h.stop();
  await mosquitto?.stop();
  await pg?.stop();
});

describe("three hubs, one database, one broker", () => {
  test("a device registered through one hub is callable through all; each caller gets its own reply; any hub reads any call; live shows all", async () => {
    await registerDevice(hubs[0]!, P, "echo1");
    devices.push(await startSimDevice({ url: mosquitto.url, productId: P, deviceName: "echo1", reply: (req) => `re:${req}` }));
    // Listed by every hub.
    for (const h of hubs) {
      const list = await apiRequest<{ devices: { deviceName: string }[] }>(h.url, "GET", `/api/devices?productId=${P}`);
      expect(list.body.devices.map((d) => d.deviceName)).toContain("echo1");
    }

    const made = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const hub = hubs[i % 3]!;
        const payload = unique(`p${i}`);
        const r = await call(hub, "echo1", payload);
        expect(r.status).toBe(200);
        expect(text(r.call!.reply?.payloadBase64)).toBe(`re:${payload}`);
        return { hub: i % 3, call: r.call!, payload };
      }),
    );
    const tc = await Promise.all(
      hubs.map(async (h, i) => {
        const payload = unique(`tc${i}`);
        const r = await publishRrpc(h.url, KEY, { ProductId: P, DeviceName: "echo1", Payload: payload });
        expect(r.status).toBe(200);
        expect(text(r.response.PayloadBase64)).toBe(`re:${payload}`);
        return r.response as unknown as { MessageId: number };
      }),
    );
    ids.push(...tc.map((r) => String(r.MessageId)));

    // Any hub answers about any call, with the one outcome.
    for (const { hub, call: c, payload } of made) {
      const reader = hubs[(hub + 1) % 3]!;
      const r = await apiRequest<CallJson>(reader.url, "GET", `/api/calls/${c.processId}`);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("success");
      expect(text(r.body.request.payloadBase64)).toBe(payload);
      expect(text(r.body.reply?.payloadBase64)).toBe(`re:${payload}`);
      // No hub recorded another's reply as late, duplicate or foreign.
      expect(r.body.events.map((e) => e.type)).not.toEqual(expect.arrayContaining(["late_reply"]));
      expect(r.body.events.filter((e) => ["late_reply", "duplicate_reply", "foreign_reply"].includes(e.type))).toEqual([]);
    }
    // The history through one hub lists the calls of all three.
    const history = await apiRequest<{ calls: CallJson[] }>(hubs[2]!.url, "GET", `/api/calls?deviceName=echo1&limit=100`);
    expect(new Set(history.body.calls.map((c) => c.processId))).toEqual(
      new Set([...made.map((m) => m.call.processId), ...tc.map((t) => String(t.MessageId))]),
    );
    // The live feed on the shared broker carries every hub's calls, ended.
    await waitFor(() => made.every((m) => liveSeen.get(m.call.processId)?.status === "success"), "every call on the live feed");
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("a batch running on one hub is cancelled through another", async () => {
    const quiet = ["quiet1", "quiet2", "quiet3"];
    for (const m of quiet) {
      await registerDevice(hubs[1]!, P, m);
      devices.push(await startSimDevice({ url: mosquitto.url, productId: P, deviceName: m, silent: true }));
    }
    const started = await apiRequest<BatchJson>(hubs[0]!.url, "POST", "/api/batches", {
      targets: { devices: quiet.map((deviceName) => ({ productId: P, deviceName })) },
      payload: "quiet",
      timeoutMs: 2000,
      concurrency: 1,
    });
    expect([200, 201, 202]).toContain(started.status);
    const id = started.body.batchId;
    const asked = await apiRequest<BatchJson>(hubs[1]!.url, "POST", `/api/batches/${id}/cancel`);
    expect(asked.status).toBe(200);
    // The running hub takes the cancel with its next heartbeat: the unsent targets end cancelled.
    const ended = await waitFor(
      async () => {
        const r = await apiRequest<BatchJson>(hubs[2]!.url, "GET", `/api/batches/${id}`);
        return r.body.status !== "running" ? r.body : null;
      },
      "the batch to end",
      15_000,
      100,
    );
    expect(ended.status).toBe("cancelled");
    expect(ended.counts.cancelled).toBeGreaterThan(0);
  });

  test("a hub killed -9 with calls and a batch in flight: the others end them interrupted; started again, it takes calls", async () => {
    const mutes = ["mute1", "mute2", "mute3", "mute4", "mute5", "mute6"];
    for (const [i, m] of mutes.entries()) await registerDevice(hubs[i % 3]!, P, m);
    // Silent devices: subscribed, never answering.
    for (const m of mutes) devices.push(await startSimDevice({ url: mosquitto.url, productId: P, deviceName: m, silent: true }));
    const victim = hubs[2]!;
    const inFlight = mutes.slice(0, 3).map((m) => call(victim, m, unique(m), 120_000).catch((err: Error) => ({ status: 0, call: undefined, err })));
    const batch = await apiRequest<BatchJson>(victim.url, "POST", "/api/batches", {
      targets: { devices: mutes.map((deviceName) => ({ productId: P, deviceName })) },
      payload: "batch",
      timeoutMs: 120_000,
      concurrency: 2,
    });
    expect([200, 201, 202]).toContain(batch.status);
    const batchId = batch.body.batchId;
    // Seen pending through another hub: 3 single calls + 2 of the batch.
    const reader = hubs[0]!;
    const pending = await waitFor(async () => {
      const r = await apiRequest<{ calls: CallJson[] }>(reader.url, "GET", `/api/calls?status=pending&limit=100`);
      return r.body.calls.length === 5 ? r.body.calls : null;
    }, "the victim's calls, pending, seen through another hub");
    // The running batch read through another hub: counted from its targets, none ended yet.
    const running = await apiRequest<BatchJson>(reader.url, "GET", `/api/batches/${batchId}`);
    expect(running.body).toMatchObject({ status: "running", total: 6 });
    expect(running.body.counts).toMatchObject({ pending: 6, interrupted: 0 });

    await victim.stop("SIGKILL");
    // Within the 30 s: heartbeat period + lease, here 2 s + 6 s.
    await waitFor(
      async () => {
        const all = await Promise.all(pending.map((c) => apiRequest<CallJson>(reader.url, "GET", `/api/calls/${c.processId}`)));
        return all.every((r) => r.body.status === "interrupted");
      },
      "the killed hub's calls to end interrupted",
      30_000,
      100,
    );
    const ended = await waitFor(
      async () => {
        const r = await apiRequest<BatchJson>(hubs[1]!.url, "GET", `/api/batches/${batchId}`);
        return r.body.status !== "running" ? r.body : null;
      },
      "the killed hub's batch to end",
      30_000,
      100,
    );
    expect(ended.status).toBe("interrupted");
    expect(ended.unsent).toBe(4);
    expect(ended.counts).toMatchObject({ interrupted: 6 });
    for (const r of await Promise.all(inFlight)) expect(r.call).toBeUndefined();
    for (const c of pending) ids.push(c.processId);

    // Started again (a new process, a new hub id): it takes calls; the others still do.
    const again = await startServer(env);
    hubs[2] = again;
    for (const h of hubs) {
      const payload = unique("after");
      const r = await call(h, "echo1", payload);
      expect(r.status).toBe(200);
      expect(text(r.call!.reply?.payloadBase64)).toBe(`re:${payload}`);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // No hub logged an error, the surviving ones included.
    for (const h of hubs) expect(h.output()).not.toContain('"level":"error"');
  });
});
