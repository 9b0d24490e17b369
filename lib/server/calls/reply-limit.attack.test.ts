/**
 * Attack suite (issue: hardening), finding 5 — a device answered with 50 MB: the reply was kept
 * and returned whole, and once a page of history was longer than V8's longest string, GET
 * /api/calls answered 500 (also after a restart) and the export dropped its connection. Against
 * the production server: a reply over RRPC_MAX_REPLY ends its call reply_too_large, unkept, on
 * both APIs; calls stored with huge replies (by a server started with a large RRPC_MAX_REPLY)
 * are still listed and exported in full after a restart with the defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { deviceCredentials } from "../auth/device-auth";
import { deviceRequestFilter, replyTopic } from "../../rrpc/topics";
import type { CallJson } from "../../rrpc/types";
import type { ApiErrorBody, CallsPage } from "../../rrpc/api";
import { registerDevice, startServer, tempDir, type ServerHandle } from "../testing/servers";
import { tencentSdkClient } from "../testing/tencent-sdk";

const KEY = { secretId: "AKIDreplylimit00000000000000000001", secretKey: "replyLimitSecretKey0000000000001" };
const KiB = 1024;
const MiB = 1024 * KiB;

/** A registered device, logged in over MQTT, that answers every request with `reply(request)`. */
async function answeringDevice(s: ServerHandle, productId: string, deviceName: string, reply: (request: Buffer) => Buffer): Promise<MqttClient> {
  const login = deviceCredentials(productId, deviceName, await registerDevice(s, productId, deviceName));
  const c = connectMqtt(`mqtt://127.0.0.1:${s.mqttPort}`, { ...login, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => c.once("connect", () => resolve()).once("error", reject));
  await new Promise<void>((resolve, reject) => c.subscribe(deviceRequestFilter(productId, deviceName), (err) => (err ? reject(err) : resolve())));
  c.on("message", (topic, payload) => c.publish(replyTopic(productId, deviceName, topic.split("/").at(-1)!), reply(payload)));
  return c;
}

function post(s: ServerHandle, body: unknown): Promise<Response> {
  return fetch(`${s.url}/api/calls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

describe("finding 5: a reply over RRPC_MAX_REPLY", () => {
  let s: ServerHandle;
  let device: MqttClient;
  beforeAll(async () => {
    s = await startServer({ RRPC_MAX_REPLY: String(64 * KiB), RRPC_BOOTSTRAP_KEY: `${KEY.secretId}:${KEY.secretKey}` });
    // Answers with as many bytes as the request asks for.
    device = await answeringDevice(s, "BIGREPLY01", "sized", (req) => Buffer.alloc(Number(req.toString()), 0x61));
  });
  afterAll(async () => {
    if (device) await endMqtt(device, true);
    await s?.stop();
  });

  it("native API: 502 reply_too_large naming the size and the limit; the call keeps no reply; a reply of the limit succeeds", async () => {
    const r = await post(s, { productId: "BIGREPLY01", deviceName: "sized", payload: String(MiB), timeoutMs: 300_000 });
    expect(r.status).toBe(502);
    const body = (await r.json()) as ApiErrorBody;
    expect(body.error.code).toBe("reply_too_large");
    expect(body.error.message).toContain(`${MiB} bytes`);
    expect(body.error.message).toContain(`${64 * KiB}`);
    const call = body.call!;
    expect(call.status).toBe("reply_too_large");
    expect(call.reply).toBeUndefined();
    expect(call.events.find((e) => e.type === "reply_too_large")?.detail).toEqual({ bytes: MiB, limit: 64 * KiB });

    const stored = (await (await fetch(`${s.url}/api/calls/${call.processId}`)).json()) as CallJson;
    expect(stored.status).toBe("reply_too_large");
    expect(stored.reply).toBeUndefined();
    const listed = (await (await fetch(`${s.url}/api/calls?limit=50&status=reply_too_large`)).json()) as CallsPage;
    expect(listed.calls.map((c) => c.processId)).toContain(call.processId);

    const exact = await post(s, { productId: "BIGREPLY01", deviceName: "sized", payload: String(64 * KiB), timeoutMs: 300_000 });
    expect(exact.status).toBe(200);
    expect(Buffer.from(((await exact.json()) as CallJson).reply!.payloadBase64, "base64")).toEqual(Buffer.alloc(64 * KiB, 0x61));
  });

  it("Tencent API: FailedOperation.RRPCReplyOverLimit naming the size and the limit", async () => {
    const sdk = tencentSdkClient({ endpoint: `127.0.0.1:${s.port}`, ...KEY });
    const err = (await sdk.PublishRRPCMessage({ ProductId: "BIGREPLY01", DeviceName: "sized", Payload: String(MiB) }).then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string; message?: string } | null;
    expect(err?.code).toBe("FailedOperation.RRPCReplyOverLimit");
    expect(err?.message).toContain(`${MiB} bytes`);
    expect(err?.message).toContain(`${64 * KiB}`);
  });
});

/**
 * Calls of one JSON answer too large for one string: each object `depth` levels down (a call) is
 * parsed on its own, and the rest, with each such object replaced by 0, as the skeleton.
 */
async function parseHugeJson(r: Response, depth: number): Promise<{ skeleton: unknown; items: CallJson[]; bytes: number }> {
  const items: CallJson[] = [];
  let skeleton = "";
  let bytes = 0;
  let level = 0;
  let inString = false;
  let escaped = false;
  let item: Buffer[] | null = null;
  const reader = r.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    bytes += chunk.length;
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === 0x5c) escaped = true;
        else if (b === 0x22) inString = false;
      } else if (b === 0x22) inString = true;
      else if (b === 0x7b || b === 0x5b) {
        if (level === depth && b === 0x7b) {
          skeleton += chunk.toString("utf8", from, i) + "0";
          item = [];
          from = i;
        }
        level++;
      } else if (b === 0x7d || b === 0x5d) {
        level--;
        if (level === depth && item) {
          item.push(chunk.subarray(from, i + 1));
          items.push(JSON.parse(Buffer.concat(item).toString("utf8")) as CallJson);
          item = null;
          from = i + 1;
        }
      }
    }
    if (item) item.push(chunk.subarray(from));
    else skeleton += chunk.toString("utf8", from);
  }
  return { skeleton: JSON.parse(skeleton), items, bytes };
}

describe("finding 5: history answers calls stored with huge replies", () => {
  // 10 replies of 8 MiB of U+0001, which JSON writes as \u0001: about 62 million characters per
  // call, so a page of them is longer than V8's longest string (2^29 − 24) and could never be one.
  const CALLS = 10;
  const REPLY_BYTES = 8 * MiB;
  // Hundreds of megabytes cross loopback: a bound against hanging, not a measure of speed.
  const SLOW = 300_000;
  const dir = tempDir();
  const dbPath = join(dir, "rrpc.db");
  const made: string[] = [];
  let before: ServerHandle | undefined;
  let s: ServerHandle | undefined;

  beforeAll(async () => {
    // The huge rows are made through the server itself, with a limit that lets them in, and a
    // device that answers every request with one.
    before = await startServer({ RRPC_DB: dbPath, RRPC_SIMULATOR: "0", RRPC_MAX_REPLY: String(REPLY_BYTES) });
    const device = await answeringDevice(before, "HUGEROWS01", "huge", () => Buffer.alloc(REPLY_BYTES, 0x01));
    try {
      for (let i = 0; i < CALLS; i++) {
        const r = await post(before, { productId: "HUGEROWS01", deviceName: "huge", payload: `call ${i}`, timeoutMs: 300_000 });
        expect(r.status).toBe(200);
        // The answer is the whole call (~62 MB): only its processId is wanted.
        const reader = r.body!.getReader();
        const head = await reader.read();
        made.push(/"processId":"(\d+)"/.exec(Buffer.from(head.value!).toString("utf8"))![1]!);
        await reader.cancel();
      }
    } finally {
      await endMqtt(device, true);
      await before.stop();
    }
    s = await startServer({ RRPC_DB: dbPath, RRPC_SIMULATOR: "0" });
  }, SLOW);
  afterAll(async () => {
    await before?.stop();
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const replyBase64 = () => Buffer.alloc(REPLY_BYTES, 0x01).toString("base64");

  it("GET /api/calls?limit=50 answers 200 with every call and its reply, in pages of bounded size", { timeout: SLOW }, async () => {
    const items: CallJson[] = [];
    let before = "";
    for (let pages = 1; ; pages++) {
      const r = await fetch(`${s!.url}/api/calls?limit=50${before}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/json");
      const page = await parseHugeJson(r, 2);
      const skeleton = page.skeleton as { calls: number[]; nextBefore: string | null };
      expect(skeleton.calls).toHaveLength(page.items.length);
      items.push(...page.items);
      if (skeleton.nextBefore === null) {
        // 80 MiB of replies do not come in one page: at most 32 MiB of payloads are read at once.
        expect(pages).toBeGreaterThan(1);
        break;
      }
      expect(skeleton.nextBefore).toBe(page.items.at(-1)!.processId);
      before = `&before=${skeleton.nextBefore}`;
    }
    expect(items.map((c) => c.processId)).toEqual([...made].reverse());
    const b64 = replyBase64();
    for (const c of items) {
      expect(c.status).toBe("success");
      expect(c.reply!.payloadBase64 === b64).toBe(true);
      expect(c.reply!.payloadText?.length).toBe(REPLY_BYTES);
    }
  });

  it("the JSON export completes with every row", { timeout: SLOW }, async () => {
    const r = await fetch(`${s!.url}/api/calls/export?format=json`);
    expect(r.status).toBe(200);
    const { skeleton, items } = await parseHugeJson(r, 1);
    expect(skeleton).toEqual(Array<number>(CALLS).fill(0));
    expect(items.map((c) => c.processId)).toEqual([...made].reverse());
    const b64 = replyBase64();
    for (const c of items) expect(c.reply!.payloadBase64 === b64).toBe(true);
    // Thousands of waits for the socket to drain, each without a listener left behind.
    expect(s!.output()).not.toContain("MaxListenersExceededWarning");
  });

  it("the CSV export completes with every row", { timeout: SLOW }, async () => {
    const r = await fetch(`${s!.url}/api/calls/export?format=csv`);
    expect(r.status).toBe(200);
    // Rows end in \r\n, and no cell here holds a line break: each row's start and length, read as it streams.
    const rows: { start: string; length: number }[] = [];
    let current = { start: "", length: 0 };
    const reader = r.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); ; nl = chunk.indexOf(0x0a, from)) {
        const end = nl < 0 ? chunk.length : nl + 1;
        if (current.start.length < 64) current.start += chunk.toString("latin1", from, Math.min(end, from + 64));
        current.length += end - from;
        if (nl < 0) break;
        rows.push(current);
        current = { start: "", length: 0 };
        from = end;
      }
    }
    expect(current.length).toBe(0);
    expect(rows[0]!.start.startsWith("processId,productId,deviceName,status,")).toBe(true);
    expect(rows.slice(1).map((row) => row.start.split(",").slice(0, 4).join(","))).toEqual(
      [...made].reverse().map((id) => `${id},HUGEROWS01,huge,success`),
    );
    // Each row holds the reply twice: base64, and the text itself (U+0001 needs no quoting in CSV).
    const least = replyBase64().length + REPLY_BYTES;
    for (const row of rows.slice(1)) expect(row.length).toBeGreaterThan(least);
  });
});
