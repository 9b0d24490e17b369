/**
 * Saved commands and batches through the real routes, runtime, embedded broker and SQLite file,
 * with devices that misbehave: silent, late, replying twice, dropping off mid-batch, never
 * connected, unregistered, disabled.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MqttClient } from "mqtt";
import { waitFor } from "../testing/servers";
import { apiRequest, startInProcessHub, type InProcessHub } from "../testing/hub";
import { startSimDevice, type SimDevice, type SimDeviceOptions } from "../simulator/simulator";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { deviceCredentials } from "../auth/device-auth";
import { deviceClientId, deviceRequestFilter, parseRrpcTopic, replyTopic } from "../../rrpc/topics";
import type { BatchJson, BatchTargetsPage, Command, CallsPage } from "../../rrpc/api";
import type { CallJson } from "../../rrpc/types";

const P = "FLEETPROD1";

type Hub = InProcessHub;

const startHub = (env: Record<string, string> = {}) => startInProcessHub(env);
const api = <T = Record<string, unknown>>(h: Hub, method: string, path: string, body?: unknown) => apiRequest<T>(h.url, method, path, body);

const mqttUrl = (h: Hub) => h.mqttUrl;

async function register(h: Hub, deviceName: string): Promise<string> {
  const r = await api<{ secret: string }>(h, "POST", "/api/devices", { productId: P, deviceName });
  expect(r.status).toBe(201);
  return r.body.secret;
}

/** A device on a raw MQTT connection, answering requests with `onRequest`. */
async function rawDevice(h: Hub, deviceName: string, secret: string, onRequest: (c: MqttClient, processId: string, payload: Buffer) => void) {
  const login = deviceCredentials(P, deviceName, secret);
  const client = connectMqtt(mqttUrl(h), {
    clientId: deviceClientId(P, deviceName),
    username: login.username,
    password: login.password,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => client.subscribe(deviceRequestFilter(P, deviceName), { qos: 0 }, (err) => (err ? reject(err) : resolve())));
    client.once("error", reject);
  });
  client.on("message", (topic, payload) => {
    const t = parseRrpcTopic(topic);
    if (t?.direction === "request") onRequest(client, t.processId, payload);
  });
  return client;
}

const allCounted = (b: BatchJson) => Object.values(b.counts).reduce((a, n) => a + n, 0);

describe("saved commands", () => {
  let h: Hub;
  let echo: SimDevice;
  beforeAll(async () => {
    h = await startHub();
    echo = await startSimDevice({ url: mqttUrl(h), productId: P, deviceName: "echo1", secret: await register(h, "echo1"), reply: (req) => req });
  });
  afterAll(async () => {
    await echo?.stop();
    await h?.stop();
  });

  const setTemp = {
    name: "Set temperature",
    description: "sets the target temperature",
    payload: `{"cmd":"set","t":{{t}},"mode":"{{mode}}"}`,
    params: [
      { name: "t", type: "number", min: 16, max: 30 },
      { name: "mode", type: "enum", values: ["eco", "boost"], default: "eco" },
    ],
    timeoutMs: 2000,
  };

  it("creates, lists, reads, updates and deletes a command", async () => {
    const created = await api<Command>(h, "POST", "/api/commands", setTemp);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...setTemp, encoding: "utf8", id: expect.stringMatching(/^cmd_/) });
    expect(created.body.createdAt).toBe(created.body.updatedAt);
    const id = created.body.id;

    expect((await api<{ commands: Command[] }>(h, "GET", "/api/commands")).body.commands.map((c) => c.id)).toContain(id);
    expect((await api<Command>(h, "GET", `/api/commands/${id}`)).body).toEqual(created.body);

    const updated = await api<Command>(h, "PUT", `/api/commands/${id}`, { ...setTemp, name: "Set temperature v2" });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: "Set temperature v2", createdAt: created.body.createdAt });

    expect((await api(h, "DELETE", `/api/commands/${id}`)).status).toBe(204);
    const gone = await api(h, "GET", `/api/commands/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error?.code).toBe("command_not_found");
    expect((await api(h, "DELETE", `/api/commands/${id}`)).body.error?.code).toBe("command_not_found");
  });

  it("refuses a bad definition with the field, and a duplicate name (any case) with 409, changing nothing", async () => {
    const first = await api<Command>(h, "POST", "/api/commands", { name: "Reboot", payload: `{"cmd":"reboot"}` });
    expect(first.status).toBe(201);
    const cases: [unknown, number, string, string[]][] = [
      [{ name: "reboot", payload: "x" }, 409, "conflict", ["name"]],
      [{ name: "A", payload: `{"t":{{t}}}` }, 400, "invalid_request", ["payload"]],
      [{ name: "B", payload: `{"t":1}`, params: [{ name: "t", type: "number" }] }, 400, "invalid_request", ["params.0.name"]],
      [{ name: "C", payload: `{{m}}`, params: [{ name: "m", type: "enum" }] }, 400, "invalid_request", ["params.0.values"]],
      [{ name: "D", payload: `{"t":{{t}}}`, params: [{ name: "t", type: "float" }] }, 400, "invalid_request", ["params.0.type"]],
      [{ name: "E", payload: `{"t":{{t}} oops}`, params: [{ name: "t", type: "number" }] }, 400, "invalid_request", ["payload"]],
      [{ name: "", payload: "x" }, 400, "invalid_request", ["name"]],
      [{ name: "F", payload: "x", productId: "a/b" }, 400, "invalid_request", ["productId"]],
    ];
    for (const [body, status, code, fields] of cases) {
      const r = await api(h, "POST", "/api/commands", body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error?.code).toBe(code);
      if (fields.length) expect(r.body.error?.fields?.map((f) => f.field)).toEqual(expect.arrayContaining(fields));
    }
    const names = (await api<{ commands: Command[] }>(h, "GET", "/api/commands")).body.commands.map((c) => c.name);
    expect(names).toEqual(["Reboot"]);
  });

  it("runs a command as a call: the rendered payload goes out and the call records the commandId", async () => {
    const cmd = (await api<Command>(h, "POST", "/api/commands", { ...setTemp, name: "Set temp run" })).body;
    const r = await api<CallJson>(h, "POST", "/api/calls", { productId: P, deviceName: "echo1", commandId: cmd.id, params: { t: 21 } });
    expect(r.status).toBe(200);
    expect(r.body.request.payloadText).toBe(`{"cmd":"set","t":21,"mode":"eco"}`);
    expect(r.body.reply?.payloadText).toBe(`{"cmd":"set","t":21,"mode":"eco"}`);
    expect(r.body.commandId).toBe(cmd.id);
    expect(r.body.caller).toEqual({ kind: "local", id: "local", name: "local (sign-in off)" });
    expect(r.body.timeoutMs).toBe(2000);
    const listed = await api<CallsPage>(h, "GET", `/api/calls?commandId=${cmd.id}`);
    expect(listed.body.calls.map((c) => c.processId)).toEqual([r.body.processId]);
  });

  it("refuses missing, mistyped, out-of-range and unknown parameters and unknown commands, publishing nothing", async () => {
    const cmd = (await api<Command>(h, "POST", "/api/commands", { ...setTemp, name: "Set temp refusals" })).body;
    const received = echo.received;
    const before = (await api<{ total: number }>(h, "GET", "/api/calls/count")).body.total;
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{}, 400, "invalid_request", "params.t"],
      [{ t: "21" }, 400, "invalid_request", "params.t"],
      [{ t: 31 }, 400, "invalid_request", "params.t"],
      [{ t: 20, mode: "turbo" }, 400, "invalid_request", "params.mode"],
      [{ t: 20, fan: 1 }, 400, "invalid_request", "params.fan"],
    ];
    for (const [params, status, code, field] of cases) {
      const r = await api(h, "POST", "/api/calls", { productId: P, deviceName: "echo1", commandId: cmd.id, params });
      expect(r.status, JSON.stringify(params)).toBe(status);
      expect(r.body.error?.code).toBe(code);
      expect(r.body.error?.fields?.map((f) => f.field)).toContain(field);
    }
    const unknown = await api(h, "POST", "/api/calls", { productId: P, deviceName: "echo1", commandId: "cmd_nope", params: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe("command_not_found");
    const both = await api(h, "POST", "/api/calls", { productId: P, deviceName: "echo1", commandId: cmd.id, payload: "x" });
    expect(both.status).toBe(400);
    expect((await api<{ total: number }>(h, "GET", "/api/calls/count")).body.total).toBe(before);
    expect(echo.received).toBe(received);
  });

  it("a command for one product refuses devices of another", async () => {
    const cmd = (await api<Command>(h, "POST", "/api/commands", { name: "Other product", productId: "OTHERPROD1", payload: "x" })).body;
    const r = await api(h, "POST", "/api/calls", { productId: P, deviceName: "echo1", commandId: cmd.id });
    expect(r.status).toBe(400);
    expect(r.body.error?.fields?.[0]?.field).toBe("productId");
  });
});

describe("batches", () => {
  let h: Hub;
  const sims: SimDevice[] = [];
  const raws: MqttClient[] = [];
  const secrets: Record<string, string> = {};
  const sim = async (name: string, opts: Partial<SimDeviceOptions> = {}) => {
    const d = await startSimDevice({
      url: mqttUrl(h),
      productId: P,
      deviceName: name,
      secret: secrets[name] ?? (secrets[name] = await register(h, name)),
      ...opts,
    });
    sims.push(d);
    return d;
  };
  beforeAll(async () => {
    h = await startHub({ RRPC_MAX_IN_FLIGHT: "20" });
  });
  afterAll(async () => {
    for (const d of sims) await d.stop();
    for (const c of raws) await endMqtt(c, true);
    await h?.stop();
  });

  it("gives every target exactly one outcome with misbehaving devices, and lists its calls", async () => {
    for (let i = 0; i < 6; i++) await sim(`ok${i}`, { reply: (req) => req });
    await sim("silent", { silent: true });
    secrets.never = await register(h, "never");
    secrets.disabled = await register(h, "disabled");
    expect((await api(h, "PATCH", `/api/devices/${P}/disabled`, { disabled: true })).status).toBe(200);
    // Replies twice: the second is a duplicate, recorded on the call, counted nowhere else.
    secrets.twice = await register(h, "twice");
    raws.push(
      await rawDevice(h, "twice", secrets.twice, (c, id, payload) => {
        c.publish(replyTopic(P, "twice", id), payload);
        c.publish(replyTopic(P, "twice", id), payload);
      }),
    );
    // Answers after the timeout: the call is a timeout; the reply is recorded as late.
    const lateIds: string[] = [];
    secrets.late = await register(h, "late");
    const late = await rawDevice(h, "late", secrets.late, (_c, id) => lateIds.push(id));
    raws.push(late);
    // Drops its connection when asked.
    secrets.dropper = await register(h, "dropper");
    raws.push(await rawDevice(h, "dropper", secrets.dropper, (c) => c.end(true)));

    const names = ["ok0", "ok1", "ok2", "ok3", "ok4", "ok5", "silent", "never", "disabled", "twice", "late", "dropper", "nobody"];
    const devices = [...names, "ok0", "ok1"].map((deviceName) => ({ productId: P, deviceName }));
    const started = await api<BatchJson>(h, "POST", "/api/batches", { targets: { devices }, payload: `{"cmd":"status"}`, timeoutMs: 1500 });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "running", total: names.length, createdBy: "local" });
    const batchId = started.body.batchId;

    await waitFor(() => lateIds.length === 1 && lateIds, "the late device to get its request");
    const done = await h.rt.batches.whenEnded(batchId, 30_000);
    expect(done.status).toBe("done");
    late.publish(replyTopic(P, "late", lateIds[0]!), "late!");

    expect(done.counts).toMatchObject({
      pending: 0,
      success: 7,
      timeout: 3,
      offline: 1,
      device_not_found: 1,
      device_disabled: 1,
      cancelled: 0,
    });
    expect(allCounted(done)).toBe(done.total);
    expect(done.unsent).toBe(0);
    expect(done.durationMs).toBeGreaterThan(0);

    const targets = (await api<BatchTargetsPage>(h, "GET", `/api/batches/${batchId}/targets?limit=100`)).body.targets;
    expect(targets.map((t) => t.deviceName)).toEqual(names);
    const by = Object.fromEntries(targets.map((t) => [t.deviceName, t]));
    expect(by.ok0!.status).toBe("success");
    expect(by.twice!.status).toBe("success");
    expect(by.silent!.status).toBe("timeout");
    expect(by.late!.status).toBe("timeout");
    expect(by.dropper!.status).toBe("timeout");
    expect(by.never!.status).toBe("offline");
    expect(by.nobody).toMatchObject({ status: "device_not_found" });
    expect(by.nobody!.processId).toBeUndefined();
    expect(by.disabled!.processId).toBeUndefined();

    const calls = (await api<CallsPage>(h, "GET", `/api/calls?batchId=${batchId}&limit=100`)).body.calls;
    expect(calls).toHaveLength(11);
    expect(new Set(calls.map((c) => c.processId))).toEqual(new Set(targets.filter((t) => t.processId).map((t) => t.processId)));
    for (const c of calls) expect(c).toMatchObject({ batchId, caller: { kind: "batch", id: batchId, name: "local" } });
    const byCaller = (await api<CallsPage>(h, "GET", `/api/calls?callerKind=batch&callerId=${batchId}&limit=100`)).body.calls;
    expect(byCaller.map((c) => c.processId).sort()).toEqual(calls.map((c) => c.processId).sort());
    const twice = calls.find((c) => c.deviceName === "twice")!;
    await waitFor(async () => {
      const c = (await api<CallJson>(h, "GET", `/api/calls/${twice.processId}`)).body;
      return c.events.some((e) => e.type === "duplicate_reply");
    }, "the duplicate to be recorded");
    const lateCall = calls.find((c) => c.deviceName === "late")!;
    await waitFor(async () => {
      const c = (await api<CallJson>(h, "GET", `/api/calls/${lateCall.processId}`)).body;
      return c.events.some((e) => e.type === "late_reply");
    }, "the late reply to be recorded");
    // Replies after the end change nothing in the batch.
    expect((await api<BatchJson>(h, "GET", `/api/batches/${batchId}`)).body.counts).toEqual(done.counts);

    const csv = (await api<string>(h, "GET", `/api/batches/${batchId}/export?format=csv`)).body;
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("index,productId,deviceName,status,processId");
    expect(lines).toHaveLength(names.length + 1);
    expect(lines[13]).toBe(`12,${P},nobody,device_not_found,`);
    const exported = (await api<unknown[]>(h, "GET", `/api/batches/${batchId}/export?format=json`)).body;
    expect(exported).toEqual(targets);

    // Retry: a new batch over what did not succeed.
    const retry = await api<BatchJson>(h, "POST", `/api/batches/${batchId}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ total: 6, retryOf: batchId, status: "running" });
    const retried = await h.rt.batches.whenEnded(retry.body.batchId, 30_000);
    expect(allCounted(retried)).toBe(6);
    const retriedNames = (await api<BatchTargetsPage>(h, "GET", `/api/batches/${retry.body.batchId}/targets`)).body.targets.map((t) => t.deviceName);
    expect(retriedNames.sort()).toEqual(["disabled", "dropper", "late", "never", "nobody", "silent"]);

    const list = (await api<{ batches: BatchJson[] }>(h, "GET", "/api/batches")).body.batches.map((b) => b.batchId);
    expect(list.slice(0, 2)).toEqual([retry.body.batchId, batchId]);
  });

  it("never makes the hub answer busy: it waits for room under RRPC_MAX_IN_FLIGHT", async () => {
    const devices = [];
    for (let i = 0; i < 40; i++) {
      await sim(`slow${i}`, { delayMs: 30 });
      devices.push({ productId: P, deviceName: `slow${i}` });
    }
    const r = await api<BatchJson>(h, "POST", "/api/batches?wait=1", { targets: { devices }, payload: "ping", concurrency: 1000 });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("done");
    expect(r.body.counts.success).toBe(40);
    expect(r.body.counts.busy).toBe(0);
  });

  it("runs a command on every registered device of a product, or only the online ones", async () => {
    const cmd = (
      await api<Command>(h, "POST", "/api/commands", {
        name: "Fan",
        payload: `{"fan":{{f}}}`,
        params: [{ name: "f", type: "integer", min: 0, max: 3 }],
      })
    ).body;
    const registered = (await api<{ devices: { productId: string; registered: boolean }[] }>(h, "GET", "/api/devices")).body.devices.filter(
      (d) => d.productId === P && d.registered,
    ).length;
    const online = h.rt.broker!.onlineDevices().filter((d) => d.productId === P).length;
    const all = await api<BatchJson>(h, "POST", "/api/batches?wait=1", {
      targets: { productId: P },
      commandId: cmd.id,
      params: { f: 2 },
      timeoutMs: 500,
    });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total: registered, commandId: cmd.id, params: { f: 2 } });
    expect(all.body.payload.text).toBe(`{"fan":2}`);
    const onl = await api<BatchJson>(h, "POST", "/api/batches", {
      targets: { productId: P, onlineOnly: true },
      commandId: cmd.id,
      params: { f: 1 },
      timeoutMs: 500,
    });
    expect(onl.body.total).toBe(online);
    await h.rt.batches.whenEnded(onl.body.batchId, 30_000);
    const calls = (await api<CallsPage>(h, "GET", `/api/calls?batchId=${all.body.batchId}&limit=500`)).body.calls;
    expect(calls.every((c) => c.commandId === cmd.id && c.request.payloadText === `{"fan":2}`)).toBe(true);
  });

  it("cancel stops sending: unsent targets end cancelled, calls in flight finish", async () => {
    // Devices that hold their replies until released: exactly `concurrency` calls are in flight at the cancel.
    const held: (() => void)[] = [];
    const devices = [];
    for (let i = 0; i < 10; i++) {
      const name = `c${i}`;
      secrets[name] = await register(h, name);
      raws.push(await rawDevice(h, name, secrets[name], (c, id) => held.push(() => c.publish(replyTopic(P, name, id), "done"))));
      devices.push({ productId: P, deviceName: name });
    }
    const started = await api<BatchJson>(h, "POST", "/api/batches", { targets: { devices }, payload: "x", concurrency: 2 });
    const id = started.body.batchId;
    await waitFor(() => held.length === 2, "two calls in flight");
    const cancelled = await api<BatchJson>(h, "POST", `/api/batches/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "running", unsent: 8 });
    expect(cancelled.body.counts).toMatchObject({ pending: 2, cancelled: 8 });
    for (const release of held.splice(0)) release();
    const end = await h.rt.batches.whenEnded(id, 30_000);
    expect(end.status).toBe("cancelled");
    expect(end.counts).toMatchObject({ pending: 0, success: 2, cancelled: 8 });
    expect(end.unsent).toBe(8);
    expect(held).toHaveLength(0);
    const calls = (await api<CallsPage>(h, "GET", `/api/calls?batchId=${id}`)).body.calls;
    expect(calls).toHaveLength(2);
    const targets = (await api<BatchTargetsPage>(h, "GET", `/api/batches/${id}/targets?status=cancelled`)).body.targets;
    expect(targets.map((t) => t.index)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const again = await api(h, "POST", `/api/batches/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe("conflict");
  });

  it("refuses bad batches with a code and the field, creating nothing", async () => {
    const before = (await api<{ batches: BatchJson[] }>(h, "GET", "/api/batches")).body.batches.length;
    const cases: [unknown, number, string, string?][] = [
      [{ targets: { devices: [] }, payload: "x" }, 400, "invalid_request", "targets.devices"],
      [{ targets: { devices: [{ productId: P, deviceName: "a/b" }] }, payload: "x" }, 400, "invalid_request", "targets.devices.0.deviceName"],
      [{ targets: { devices: [{ productId: P, deviceName: "ok0" }] } }, 400, "invalid_request", "payload"],
      [{ targets: { devices: [{ productId: P, deviceName: "ok0" }] }, payload: "x", commandId: "cmd_x" }, 400, "invalid_request", "payload"],
      [{ targets: { devices: [{ productId: P, deviceName: "ok0" }] }, commandId: "cmd_nope" }, 404, "command_not_found"],
      [{ targets: { devices: [{ productId: P, deviceName: "ok0" }] }, payload: "x", timeoutMs: 5 }, 400, "invalid_request", "timeoutMs"],
      [{ targets: { devices: [{ productId: P, deviceName: "ok0" }] }, payload: "x", concurrency: 10_001 }, 400, "invalid_request", "concurrency"],
      [{ targets: { productId: "NOSUCHPROD" }, payload: "x" }, 400, "invalid_request", "targets.productId"],
      [
        { targets: { devices: Array.from({ length: 100_001 }, (_, i) => ({ productId: P, deviceName: `d${i}` })) }, payload: "x" },
        413,
        "too_many_targets",
      ],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await api(h, "POST", "/api/batches", body);
      expect(r.status, JSON.stringify(body).slice(0, 120)).toBe(status);
      expect(r.body.error?.code).toBe(code);
      if (field) expect(r.body.error?.fields?.map((f) => f.field)).toContain(field);
    }
    expect((await api<{ batches: BatchJson[] }>(h, "GET", "/api/batches")).body.batches.length).toBe(before);
    expect((await api(h, "GET", "/api/batches/b_nope")).body.error?.code).toBe("batch_not_found");
  });
});
