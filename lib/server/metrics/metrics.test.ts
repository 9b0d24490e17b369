/**
 * GET /metrics through the production server (dist/server.mjs) with its embedded broker: the
 * counters and the round-trip histogram move with real calls (success, timeout, Tencent's API),
 * late, duplicate and foreign replies are counted, and who may read the metrics: anyone while
 * sign-in is off, else an API key, an operator session or RRPC_METRICS_TOKEN as a bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerDevice, startServer, waitFor, type ServerHandle } from "../testing/servers";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { replyTopic } from "../../rrpc/topics";
import { publishRrpc } from "../testing/hub";
import type { CallJson } from "../../rrpc/types";
import type { CallStats } from "../../rrpc/api";

const PRODUCT = "AIRCOND001";
const KEY = { secretId: "AKIDmetricstest0000000000000000001", secretKey: "metricsTestSecretKey000000000001" };
const basic = `Basic ${Buffer.from(`${KEY.secretId}:${KEY.secretKey}`).toString("base64")}`;

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition. */
function samples(text: string): Sample[] {
  return text
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

/** The value of the one sample with this name and these labels (among others). */
function value(all: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} ${JSON.stringify(labels)}`);
  return hits[0]!.value;
}

async function scrape(s: ServerHandle, headers: Record<string, string> = {}) {
  const r = await fetch(`${s.url}/metrics`, { headers });
  const text = await r.text();
  return { status: r.status, contentType: r.headers.get("content-type"), text, samples: () => samples(text) };
}

async function post(s: ServerHandle, body: unknown) {
  const r = await fetch(`${s.url}/api/calls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as CallJson & { call?: CallJson } };
}

describe("metrics with sign-in off", () => {
  let s: ServerHandle;
  const devices: SimDevice[] = [];
  beforeAll(async () => {
    s = await startServer({ RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
    const url = `mqtt://127.0.0.1:${s.mqttPort}`;
    for (const name of ["quiet", "other"]) {
      const secret = await registerDevice(s, PRODUCT, name);
      devices.push(await startSimDevice({ url, productId: PRODUCT, deviceName: name, silent: true, secret }));
    }
  });
  afterAll(async () => {
    for (const d of devices) await d.stop();
    await s?.stop();
  });

  it("counts calls by status and source and their round trips as they are made", async () => {
    const before = (await scrape(s)).samples();
    expect(value(before, "rrpc_calls_total", { status: "success", source: "api" })).toBe(0);
    expect(value(before, "rrpc_call_duration_seconds_count")).toBe(0);

    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(s, { productId: PRODUCT, deviceName: "airConditioner1", payload: `n${i}` });
      expect(r.status).toBe(200);
      rtts.push(r.body.rttMs!);
    }
    for (let i = 0; i < 2; i++) {
      const r = await post(s, { productId: PRODUCT, deviceName: "quiet", payload: "anyone?", timeoutMs: 100 });
      expect(r.status).toBe(504);
    }
    await registerDevice(s, PRODUCT, "nobody");
    expect((await post(s, { productId: PRODUCT, deviceName: "nobody", payload: "x" })).status).toBe(409);

    // Tencent's PublishRRPCMessage counts as source "tencent".
    const tc = await publishRrpc(s.url, KEY, { ProductId: PRODUCT, DeviceName: "airConditioner1", Payload: "closed" });
    expect(tc.response.PayloadBase64).toBe("b2s=");

    // Every call above was answered, and answers wait for the commit: the metrics already hold them all.
    const r = await scrape(s);
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = r.samples();
    expect(value(after, "rrpc_calls_total", { status: "success", source: "api" })).toBe(5);
    expect(value(after, "rrpc_calls_total", { status: "timeout", source: "api" })).toBe(2);
    expect(value(after, "rrpc_calls_total", { status: "offline", source: "api" })).toBe(1);
    expect(value(after, "rrpc_calls_total", { status: "success", source: "tencent" })).toBe(1);
    expect(value(after, "rrpc_calls_total", { status: "busy", source: "dashboard" })).toBe(0);
    // The histogram holds the successful round trips only (5 + Tencent's 1), in seconds.
    expect(value(after, "rrpc_call_duration_seconds_count")).toBe(6);
    expect(value(after, "rrpc_call_duration_seconds_bucket", { le: "+Inf" })).toBe(6);
    expect(value(after, "rrpc_call_duration_seconds_sum")).toBeGreaterThanOrEqual(rtts.reduce((a, b) => a + b, 0) / 1000 - 0.001);
    expect(value(after, "rrpc_call_duration_seconds_bucket", { le: "0.0001" })).toBeLessThanOrEqual(6);
    expect(after.filter((x) => x.name === "rrpc_call_duration_seconds_bucket").map((x) => x.labels.le)).toEqual([
      "0.0001",
      "0.00025",
      "0.0005",
      "0.001",
      "0.0025",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "5",
      "10",
      "30",
      "60",
      "120",
      "300",
      "+Inf",
    ]);
    expect(value(after, "rrpc_calls_in_flight")).toBe(0);
    // Every ended call (5 + 2 + 1 + 1) was committed once.
    expect(value(after, "rrpc_store_commit_seconds_count")).toBe(9);
    expect(value(after, "rrpc_store_pending_commits")).toBe(0);
    expect(value(after, "rrpc_store_writable")).toBe(1);
    expect(value(after, "rrpc_broker_connected")).toBe(1);
    // airConditioner1 (the simulator), quiet and other; connected: those three (the hub is in-process, no connection).
    expect(value(after, "rrpc_devices_online")).toBe(3);
    expect(value(after, "rrpc_broker_connections")).toBe(3);
    // prom-client's process metrics, in this runtime's registry.
    expect(value(after, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(after.some((x) => x.name === "nodejs_eventloop_lag_seconds")).toBe(true);

    // The stats say the same of the stored calls.
    const stats = (await (await fetch(`${s.url}/api/stats?from=${Date.now() - 600_000}&bucket=600`)).json()) as CallStats;
    const sum = (k: "success" | "timeout" | "offline") => stats.buckets.reduce((n, b) => n + b[k], 0);
    expect([sum("success"), sum("timeout"), sum("offline")]).toEqual([6, 2, 1]);
  });

  it("counts late, duplicate and foreign replies", async () => {
    const ended = await post(s, { productId: PRODUCT, deviceName: "quiet", payload: "late?", timeoutMs: 100 });
    expect(ended.status).toBe(504);
    const processId = ended.body.call!.processId;
    const replies = async () => {
      const all = (await scrape(s)).samples();
      return (["late", "duplicate", "foreign"] as const).map((kind) => value(all, "rrpc_replies_total", { kind }));
    };
    expect(await replies()).toEqual([0, 0, 0]);
    const [quiet, other] = devices;
    quiet!.client.publish(replyTopic(PRODUCT, "quiet", processId), "sorry, late");
    await waitFor(async () => (await replies())[0] === 1, "the late reply to be counted");
    quiet!.client.publish(replyTopic(PRODUCT, "quiet", processId), "again");
    await waitFor(async () => (await replies())[1] === 1, "the duplicate reply to be counted");
    other!.client.publish(replyTopic(PRODUCT, "other", processId), "not mine");
    await waitFor(async () => (await replies())[2] === 1, "the foreign reply to be counted");
    expect(await replies()).toEqual([1, 1, 1]);
  });

  it("is open on loopback while sign-in is off, but refuses a bearer token when none is configured", async () => {
    expect((await scrape(s)).status).toBe(200);
    expect((await scrape(s, { authorization: basic })).status).toBe(200);
    const bearer = await scrape(s, { authorization: "Bearer whatever-it-is-0000" });
    expect(bearer.status).toBe(401);
    expect(JSON.parse(bearer.text)).toMatchObject({ error: { code: "unauthorized" } });
  });
});

describe("metrics with sign-in on", () => {
  const TOKEN = "scrape-token-0123456789abcdef";
  const PASSWORD = "metrics test password";
  let s: ServerHandle;
  beforeAll(async () => {
    s = await startServer({
      RRPC_OPERATOR_PASSWORD: PASSWORD,
      RRPC_METRICS_TOKEN: TOKEN,
      RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}`,
      RRPC_SIMULATOR: "0",
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("answers RRPC_METRICS_TOKEN, an API key or an operator session; refuses anyone else with 401", async () => {
    const anonymous = await scrape(s);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ error: { code: "unauthorized" } });
    expect(anonymous.text).not.toContain("rrpc_calls_total");

    const byToken = await scrape(s, { authorization: `Bearer ${TOKEN}` });
    expect(byToken.status).toBe(200);
    expect(value(byToken.samples(), "rrpc_calls_in_flight")).toBe(0);
    expect((await scrape(s, { authorization: `bearer ${TOKEN}` })).status).toBe(200);

    for (const wrong of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}X`,
      "Bearer short",
      `Basic ${Buffer.from(`${KEY.secretId}:nope`).toString("base64")}`,
    ]) {
      expect((await scrape(s, { authorization: wrong })).status, wrong).toBe(401);
    }
    expect((await scrape(s, { authorization: basic })).status).toBe(200);

    const signIn = await fetch(`${s.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "admin", password: PASSWORD }),
    });
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    expect((await scrape(s, { cookie })).status).toBe(200);

    // The token is never written to the log.
    expect(s.output()).not.toContain(TOKEN);
  });
});
