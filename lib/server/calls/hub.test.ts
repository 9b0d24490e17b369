import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MqttClient } from "mqtt";
import Database from "better-sqlite3";
import { join } from "node:path";
import { startEmbeddedBroker, type EmbeddedBroker } from "../broker/embedded";
import { EXTRA_REPLIES_KEPT, Hub, type HubOptions } from "./hub";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { isObserver } from "../runtime/runtime";
import { freePort, startMosquitto, tempDir, waitFor, type Mosquitto } from "../testing/servers";
import { startSimDevice, type SimDevice, type SimDeviceOptions } from "../simulator/simulator";
import { DomainError } from "../core/errors";
import { ManualClock } from "../testing/clock";
import { replyTopic } from "../../rrpc/topics";
import { PROCESS_ID_WIDTH } from "../../rrpc/process-id";

type Kind = "embedded" | "mosquitto";

type Env = {
  kind: Kind;
  url: string;
  broker: EmbeddedBroker | null;
  mosquitto: Mosquitto | null;
  store: Store;
  hub: Hub;
  closers: (() => Promise<void>)[];
};

const P = "TESTPROD01";
const text = (b?: Uint8Array) => (b ? Buffer.from(b).toString("utf8") : undefined);
const bytes = (s: string) => Buffer.from(s, "utf8");

async function startEnv(kind: Kind, hubOpts: Partial<HubOptions> = {}): Promise<Env> {
  let broker: EmbeddedBroker | null = null;
  let mosquitto: Mosquitto | null = null;
  let url: string;
  if (kind === "embedded") {
    broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver });
    url = `mqtt://127.0.0.1:${broker.tcpPort}`;
  } else {
    mosquitto = await startMosquitto();
    url = mosquitto.url;
  }
  const store = new Store(join(tempDir(), "rrpc.db"));
  const hub = new Hub({
    store: new SqliteCallStore(store),
    mqttUrl: url,
    broker: broker ?? undefined,
    maxInFlight: 10_000,
    maxPayloadBytes: 128 * 1024,
    defaultTimeoutMs: 4000,
    ...hubOpts,
  });
  await hub.start();
  expect(hub.isReady).toBe(true);
  return { kind, url, broker, mosquitto, store, hub, closers: [] };
}

async function stopEnv(env: Env) {
  for (const c of env.closers.splice(0)) await c();
  await env.hub.stop();
  env.store.close();
  await env.broker?.close();
  await env.mosquitto?.stop();
}

async function device(env: Env, deviceName: string, opts: Partial<SimDeviceOptions> = {}): Promise<SimDevice> {
  const d = await startSimDevice({ url: env.url, productId: P, deviceName, ...opts });
  env.closers.push(() => d.stop());
  return d;
}

async function rawClient(env: Env, clientId: string): Promise<MqttClient> {
  const c = connectMqtt(env.url, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  env.closers.push(() => endMqtt(c, true));
  return c;
}

function subscribe(c: MqttClient, filter: string): Promise<void> {
  return new Promise((resolve, reject) => c.subscribe(filter, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
}

describe.each<Kind>(["embedded", "mosquitto"])("hub engine against %s broker", (kind) => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(kind);
  });
  afterEach(async () => {
    for (const c of env.closers.splice(0)) await c();
  });
  afterAll(async () => {
    await stopEnv(env);
  });

  it("answers only once the call's outcome is committed: another connection reads it when the caller hears it", async () => {
    await device(env, "durable", { reply: "ok" });
    const reader = new Database(env.store.path, { readonly: true });
    const read = reader.prepare(`SELECT status, reply FROM calls WHERE process_id = ?`);
    try {
      const seen = await Promise.all(
        Array.from({ length: 50 }, () =>
          env.hub.call({ productId: P, deviceName: "durable", payload: bytes("x") }).then((c) => read.get(c.messageId)),
        ),
      );
      expect(seen).toEqual(Array(50).fill({ status: "success", reply: Buffer.from("ok") }));
    } finally {
      reader.close();
    }
  });

  it("returns the device's reply, matched by processId, with an ordered trace", async () => {
    await device(env, "ok1", { reply: "ok" });
    const call = await env.hub.call({ productId: P, deviceName: "ok1", payload: bytes("closed") });
    expect(call.status).toBe("success");
    expect(text(call.reply)).toBe("ok");
    expect(call.processId).toMatch(new RegExp(`^[1-9][0-9]{${PROCESS_ID_WIDTH - 1}}$`));
    expect(call.messageId).toBe(Number(call.processId));
    const types = call.events.map((e) => e.type);
    expect(types).toEqual(
      kind === "embedded" ? ["requested", "published", "delivered", "replied", "success"] : ["requested", "published", "replied", "success"],
    );
    const ts = call.events.map((e) => e.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(call.rttMs).toBeGreaterThan(0);
    expect(call.rttMs).toBe(call.events.at(-1)!.t);
  });

  it("times out at its deadline, never before, even when its timer fires early", async () => {
    await device(env, "silent1", { silent: true });
    const clock = new ManualClock();
    const hub = new Hub({
      store: new SqliteCallStore(env.store),
      mqttUrl: env.url,
      broker: env.broker ?? undefined,
      maxInFlight: 10,
      maxPayloadBytes: 1024,
      defaultTimeoutMs: 4000,
      clock,
    });
    try {
      await hub.start();
      let ended = false;
      const pending = hub.call({ productId: P, deviceName: "silent1", payload: bytes("x"), timeoutMs: 300 }).finally(() => (ended = true));
      expect(hub.inFlight).toBe(1);
      clock.advance(299);
      clock.fireEarly(); // a timer that fires before the deadline is re-armed
      await Promise.resolve();
      expect(ended).toBe(false);
      expect(hub.inFlight).toBe(1);
      clock.advance(1);
      const call = await pending;
      expect(call.status).toBe("timeout");
      expect(call.events.at(-1)).toEqual({ type: "timeout", t: 300 });
      expect(call.endedAt! - call.startedAt).toBe(300);
      expect(clock.pendingTimers).toBe(0);
    } finally {
      await hub.stop();
    }
  });

  it("ends calls due together at their deadlines, on one timer, however many there are", async () => {
    await device(env, "silent2", { silent: true });
    const clock = new ManualClock();
    const hub = new Hub({
      store: new SqliteCallStore(env.store),
      mqttUrl: env.url,
      broker: env.broker ?? undefined,
      maxInFlight: 1000,
      maxPayloadBytes: 1024,
      defaultTimeoutMs: 4000,
      clock,
    });
    try {
      await hub.start();
      const call = () => hub.call({ productId: P, deviceName: "silent2", payload: bytes("x"), timeoutMs: 500 });
      const first = Array.from({ length: 300 }, call);
      clock.advance(0.5);
      const second = Array.from({ length: 300 }, call);
      expect(clock.pendingTimers).toBe(1);
      clock.advance(500);
      expect(hub.inFlight).toBe(300);
      clock.advance(1);
      const calls = await Promise.all([...first, ...second]);
      expect(new Set(calls.map((c) => c.status))).toEqual(new Set(["timeout"]));
      // Stamped when the pass found them due: the first 300 at 500 ms, the rest (due at 500.5) at 501 − 0.5.
      expect(new Set(calls.slice(0, 300).map((c) => c.events.at(-1)!.t))).toEqual(new Set([500]));
      expect(new Set(calls.slice(300).map((c) => c.events.at(-1)!.t))).toEqual(new Set([500.5]));
      expect(clock.pendingTimers).toBe(0);
    } finally {
      await hub.stop();
    }
  });

  it("issues strictly increasing fixed-width processIds", async () => {
    await device(env, "seq1");
    const calls = await Promise.all(Array.from({ length: 20 }, () => env.hub.call({ productId: P, deviceName: "seq1", payload: bytes("n") })));
    const ids = calls.map((c) => c.messageId);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    expect(new Set(calls.map((c) => c.processId.length))).toEqual(new Set([PROCESS_ID_WIDTH]));
  });

  it("does not take a reply from another device for the same processId as the answer", async () => {
    await device(env, "victim", { silent: true });
    // The impostor sees the victim's requests and answers on its own txd topic with the same processId.
    const impostor = await rawClient(env, `${P}impostor`);
    await subscribe(impostor, `$rrpc/rxd/${P}/victim/+`);
    impostor.on("message", (topic, payload) => {
      const pid = topic.split("/").at(-1)!;
      impostor.publish(replyTopic(P, "impostor", pid), payload);
    });
    const call = await env.hub.call({ productId: P, deviceName: "victim", payload: bytes("open"), timeoutMs: 300 });
    expect(call.status).toBe("timeout");
    expect(call.reply).toBeUndefined();
    const foreign = call.events.find((e) => e.type === "foreign_reply");
    expect(foreign?.detail).toEqual({ productId: P, deviceName: "impostor" });
  });

  it("records a reply after the timeout as late_reply and a second one as duplicate_reply, never as the answer", async () => {
    // The device answers only once the call has timed out: the order is the test's, not the timers'.
    const slow = await rawClient(env, `${P}slow1`);
    await subscribe(slow, `$rrpc/rxd/${P}/slow1/+`);
    const asked = new Promise<string>((resolve) => slow.once("message", (topic) => resolve(topic.split("/").at(-1)!)));
    const call = await env.hub.call({ productId: P, deviceName: "slow1", payload: bytes("x"), timeoutMs: 150 });
    expect(call.status).toBe("timeout");
    slow.publish(replyTopic(P, "slow1", await asked), "late");
    const stored = await waitFor(() => {
      const c = env.store.get(call.messageId);
      return c?.events.some((e) => e.type === "late_reply") ? c : null;
    }, "late_reply in the store");
    expect(stored.status).toBe("timeout");
    expect(stored.reply).toBeUndefined();
    const late = stored.events.find((e) => e.type === "late_reply")!;
    expect(Buffer.from(String(late.detail?.payloadBase64), "base64").toString()).toBe("late");
    // Recorded after the call ended.
    expect(late.t).toBeGreaterThan(stored.events.find((e) => e.type === "timeout")!.t);

    const twice = await rawClient(env, `${P}twice1`);
    await subscribe(twice, `$rrpc/rxd/${P}/twice1/+`);
    twice.on("message", (topic) => {
      const pid = topic.split("/").at(-1)!;
      twice.publish(replyTopic(P, "twice1", pid), "first");
      twice.publish(replyTopic(P, "twice1", pid), "second");
    });
    const ok = await env.hub.call({ productId: P, deviceName: "twice1", payload: bytes("x") });
    expect(ok.status).toBe("success");
    expect(text(ok.reply)).toBe("first");
    const dup = await waitFor(() => env.store.get(ok.messageId)?.events.find((e) => e.type === "duplicate_reply"), "duplicate_reply in the store");
    expect(Buffer.from(String(dup.detail?.payloadBase64), "base64").toString()).toBe("second");
    expect(env.store.get(ok.messageId)?.status).toBe("success");
  });

  it("keeps at most EXTRA_REPLIES_KEPT late, duplicate and foreign replies per call, and counts the rest", async () => {
    const flood = await rawClient(env, `${P}flood1`);
    await subscribe(flood, `$rrpc/rxd/${P}/flood1/+`);
    flood.on("message", (topic) => {
      const pid = topic.split("/").at(-1)!;
      for (let i = 0; i <= 150; i++) flood.publish(replyTopic(P, "flood1", pid), `r${i}`);
    });
    const before = { ...env.hub.counters };
    const ok = await env.hub.call({ productId: P, deviceName: "flood1", payload: bytes("x") });
    expect(text(ok.reply)).toBe("r0");
    await waitFor(() => env.hub.counters.duplicateReplies - before.duplicateReplies === 150, "every duplicate to arrive");
    expect(env.hub.counters.unrecordedReplies - before.unrecordedReplies).toBe(150 - EXTRA_REPLIES_KEPT);
    const stored = env.store.get(ok.messageId)!;
    const dups = stored.events.filter((e) => e.type === "duplicate_reply");
    expect(dups).toHaveLength(EXTRA_REPLIES_KEPT);
    expect(Buffer.from(String(dups.at(-1)!.detail?.payloadBase64), "base64").toString()).toBe(`r${EXTRA_REPLIES_KEPT}`);
  });

  it("survives replies for unknown processIds and garbage topics", async () => {
    const c = await rawClient(env, `${P}garbage`);
    c.publish(replyTopic(P, "garbage", "9999999999999999"), "?");
    c.publish(`$rrpc/txd/${P}/garbage/not-a-number`, "?");
    c.publish(`$rrpc/txd/${P}/garbage`, "?");
    await device(env, "after1");
    const call = await env.hub.call({ productId: P, deviceName: "after1", payload: bytes("x") });
    expect(call.status).toBe("success");
  });

  it("refuses topic injection and oversize payloads before publishing anything", async () => {
    const spy = await rawClient(env, "spy-injection");
    const seen: string[] = [];
    await subscribe(spy, "$rrpc/#");
    spy.on("message", (topic) => seen.push(topic));
    const before = env.store.list({ limit: 1 })[0]?.messageId ?? 0;
    const bad: [string, string][] = [
      ["A/B", "dev"],
      ["AB+", "dev"],
      ["AB#", "dev"],
      ["AB\u0000", "dev"],
      ["", "dev"],
      [P, "dev/+"],
      [P, "#"],
      [P, "d\u0000"],
      [P, ""],
      ["ABCDEFGHIJK", "dev"],
      [P, "x".repeat(49)],
    ];
    for (const [productId, deviceName] of bad) {
      const err = await env.hub.call({ productId, deviceName, payload: bytes("x") }).catch((e: unknown) => e);
      expect(err, `${JSON.stringify([productId, deviceName])} refused`).toBeInstanceOf(DomainError);
      expect((err as DomainError).reason).toBe("invalid_input");
      expect((err as DomainError).fields?.map((f) => f.field)).toEqual([productId === P ? "deviceName" : "productId"]);
    }
    const big = await env.hub.call({ productId: P, deviceName: "dev", payload: new Uint8Array(128 * 1024 + 1) }).catch((e: unknown) => e);
    expect((big as DomainError).reason).toBe("payload_too_large");
    for (const timeoutMs of [99, 300_001, 1.5]) {
      const err = await env.hub.call({ productId: P, deviceName: "dev", payload: bytes("x"), timeoutMs }).catch((e: unknown) => e);
      expect((err as DomainError).reason).toBe("invalid_input");
      expect((err as DomainError).fields?.map((f) => f.field)).toEqual(["timeoutMs"]);
    }
    // A barrier: the hub's next publication reaches the spy after anything published before it.
    await device(env, "barrier1");
    const barrier = await env.hub.call({ productId: P, deviceName: "barrier1", payload: bytes("x") });
    expect(barrier.status).toBe("success");
    const barrierTopic = `$rrpc/rxd/${P}/barrier1/${barrier.processId}`;
    await waitFor(() => seen.includes(barrierTopic), "the barrier request at the spy");
    expect(seen.filter((t) => !t.includes("/barrier1/"))).toEqual([]);
    expect(env.store.list({ limit: 1 })[0]?.messageId).toBe(barrier.messageId);
    expect(barrier.messageId).toBe(before + 1);
  });

  it("answers 1,000 concurrent calls to 100 devices, each with its own reply", async () => {
    const names = Array.from({ length: 100 }, (_, i) => `echo${i}`);
    await Promise.all(names.map((n) => device(env, n, { reply: (req) => Buffer.concat([bytes(`${n}:`), req]) })));
    const calls = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const n = names[i % names.length]!;
        return env.hub.call({ productId: P, deviceName: n, payload: bytes(`req${i}`), timeoutMs: 10_000 });
      }),
    );
    const wrong = calls.filter((c, i) => c.status !== "success" || text(c.reply) !== `${names[i % 100]}:req${i}`);
    expect(wrong.map((c) => [c.processId, c.status, text(c.reply)])).toEqual([]);
    expect(env.hub.inFlight).toBe(0);
  });

  if (kind === "embedded") {
    it("fails at once with offline for a device that is not connected", async () => {
      const call = await env.hub.call({ productId: P, deviceName: "nobody", payload: bytes("x") });
      expect(call.status).toBe("offline");
      // Nothing was published and nothing waited: the call ended straight after it was requested.
      expect(call.events.map((e) => e.type)).toEqual(["requested", "offline"]);
    });

    it("fails at once with not_subscribed for a connected device with no RRPC subscription", async () => {
      await rawClient(env, `${P}lazy1`);
      const call = await env.hub.call({ productId: P, deviceName: "lazy1", payload: bytes("x") });
      expect(call.status).toBe("not_subscribed");
    });

    it("does not count a live dashboard's subscription as a receiver", async () => {
      const live = await rawClient(env, "rrpc-live-test");
      await subscribe(live, "$rrpc/#");
      const call = await env.hub.call({ productId: P, deviceName: "nobody2", payload: bytes("x") });
      expect(call.status).toBe("offline");
    });

    it("waits for a reply when any non-dashboard client subscribes to the request topic", async () => {
      const tap = await rawClient(env, "some-tap");
      await subscribe(tap, `$rrpc/rxd/${P}/+/+`);
      const call = await env.hub.call({ productId: P, deviceName: "nobody3", payload: bytes("x"), timeoutMs: 150 });
      expect(call.status).toBe("timeout");
    });
  } else {
    it("falls back to timeout for an unknown device with an external broker", async () => {
      const call = await env.hub.call({ productId: P, deviceName: "nobody", payload: bytes("x"), timeoutMs: 200 });
      expect(call.status).toBe("timeout");
    });
  }
});

describe("hub engine limits and broker loss", () => {
  it("refuses calls over the in-flight limit with busy", async () => {
    const env = await startEnv("embedded", { maxInFlight: 3 });
    try {
      await device(env, "silent2", { silent: true });
      const first = Array.from({ length: 3 }, () => env.hub.call({ productId: P, deviceName: "silent2", payload: bytes("x"), timeoutMs: 300 }));
      const fourth = await env.hub.call({ productId: P, deviceName: "silent2", payload: bytes("x"), timeoutMs: 300 });
      expect(fourth.status).toBe("busy");
      expect((await Promise.all(first)).map((c) => c.status)).toEqual(["timeout", "timeout", "timeout"]);
    } finally {
      await stopEnv(env);
    }
  });

  it("ends a call whose reply is over maxReplyBytes as reply_too_large, with only its size; a reply of exactly the limit succeeds", async () => {
    const limit = 4096;
    // Time stands still: however slow the machine, neither call can time out.
    const env = await startEnv("embedded", { maxReplyBytes: limit, clock: new ManualClock() });
    try {
      // Answers with as many bytes as the request asks for, then once more with "again".
      const d = await rawClient(env, `${P}sized1`);
      await subscribe(d, `$rrpc/rxd/${P}/sized1/+`);
      d.on("message", (topic, payload) => {
        const pid = topic.split("/").at(-1)!;
        d.publish(replyTopic(P, "sized1", pid), Buffer.alloc(Number(payload.toString()), 0x61));
        d.publish(replyTopic(P, "sized1", pid), "again");
      });

      const over = await env.hub.call({ productId: P, deviceName: "sized1", payload: bytes(String(limit + 1)) });
      expect(over.status).toBe("reply_too_large");
      expect(over.reply).toBeUndefined();
      expect(over.rttMs).toBeUndefined();
      // (The second answer may already be on the record, after these.)
      expect(over.events.slice(0, 5).map((e) => e.type)).toEqual(["requested", "published", "delivered", "replied", "reply_too_large"]);
      expect(over.events[4]).toEqual({ type: "reply_too_large", t: 0, detail: { bytes: limit + 1, limit } });
      // The answer that follows the oversized one is a duplicate, not a late reply.
      await waitFor(() => env.store.get(over.messageId)?.events.some((e) => e.type === "duplicate_reply"), "the second answer on the call");
      env.store.flush();
      const stored = env.store.get(over.messageId)!;
      expect(stored.status).toBe("reply_too_large");
      expect(stored.reply).toBeUndefined();
      expect(stored.events.find((e) => e.type === "reply_too_large")?.detail).toEqual({ bytes: limit + 1, limit });

      const exact = await env.hub.call({ productId: P, deviceName: "sized1", payload: bytes(String(limit)) });
      expect(exact.status).toBe("success");
      expect(exact.reply).toEqual(Buffer.alloc(limit, 0x61));
      expect(exact.events[4]).toEqual({ type: "success", t: 0 });
    } finally {
      await stopEnv(env);
    }
  });

  it("fails fast with broker_unavailable while the broker is down, then reconnects and resubscribes by itself", async () => {
    const port = await freePort();
    let mosq = await startMosquitto(port);
    const env = await startEnv("embedded"); // store + hub scaffolding; the hub below talks to Mosquitto
    const hub = new Hub({
      store: new SqliteCallStore(env.store),
      mqttUrl: mosq.url,
      maxInFlight: 100,
      maxPayloadBytes: 1024,
      defaultTimeoutMs: 4000,
    });
    try {
      await hub.start();
      const d = await startSimDevice({ url: mosq.url, productId: P, deviceName: "phoenix" });
      expect((await hub.call({ productId: P, deviceName: "phoenix", payload: bytes("a") })).status).toBe("success");

      await mosq.stop();
      await waitFor(() => !hub.isReady, "hub to notice the broker is gone");
      const down = await hub.call({ productId: P, deviceName: "phoenix", payload: bytes("b") });
      expect(down.status).toBe("broker_unavailable");
      expect(down.events.map((e) => e.type)).toEqual(["requested", "broker_unavailable"]);

      mosq = await startMosquitto(port);
      await waitFor(() => hub.isReady, "hub to reconnect", 10_000);
      // The device reconnects on its own too; once it has resubscribed the call goes through.
      const back = await waitFor(async () => {
        const c = await hub.call({ productId: P, deviceName: "phoenix", payload: bytes("c"), timeoutMs: 300 });
        return c.status === "success" ? c : null;
      }, "a successful call after reconnecting");
      expect(text(back.reply)).toBe("ok");
      await d.stop();
    } finally {
      await hub.stop();
      await mosq.stop();
      await stopEnv(env);
    }
  });

  it("fails with broker_unavailable when the broker was never reachable", async () => {
    const port = await freePort();
    const store = new Store(join(tempDir(), "rrpc.db"));
    const hub = new Hub({
      store: new SqliteCallStore(store),
      mqttUrl: `mqtt://127.0.0.1:${port}`,
      maxInFlight: 10,
      maxPayloadBytes: 1024,
      defaultTimeoutMs: 4000,
      connectWaitMs: 200,
    });
    try {
      await hub.start();
      const call = await hub.call({ productId: P, deviceName: "d", payload: bytes("x") });
      expect(call.status).toBe("broker_unavailable");
      expect(store.get(call.messageId)?.status).toBe("broker_unavailable");
    } finally {
      await hub.stop();
      store.close();
    }
  });

  it("ends calls in flight as interrupted when stopped", async () => {
    const env = await startEnv("embedded");
    await device(env, "silent3", { silent: true });
    const pending = env.hub.call({ productId: P, deviceName: "silent3", payload: bytes("x"), timeoutMs: 60_000 });
    await waitFor(() => env.hub.inFlight === 1, "the call in flight");
    await stopEnv(env);
    const call = await pending;
    expect(call.status).toBe("interrupted");
    expect(call.events.at(-1)?.type).toBe("interrupted");
  });
});
