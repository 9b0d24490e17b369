/**
 * Attack suite (issue: hardening), finding 10 — malformed input and hostile content, against the
 * production server: malformed cookies and paths are 4xx, not 500; CSV export neutralises
 * formulas; RRPC messages are never retained; an impossible or damaged RRPC_DB is a clear error
 * at start, naming the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { deviceCredentials } from "../auth/device-auth";
import { registerDevice, spawnServer, startServer, tempDir, waitFor, type ServerHandle } from "../testing/servers";
import type { CallJson } from "../../rrpc/types";

const PASSWORD = "inputs attack password";
let s: ServerHandle;
beforeAll(async () => {
  s = await startServer({ RRPC_OPERATOR_PASSWORD: PASSWORD });
});
afterAll(async () => {
  await s?.stop();
});

async function signedIn(): Promise<string> {
  const r = await fetch(`${s.url}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "admin", password: PASSWORD }),
  });
  return r.headers.get("set-cookie")!.split(";")[0]!;
}

async function mqtt(clientId: string, username: string, password: string): Promise<MqttClient> {
  const c = connectMqtt(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId, username, password, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => c.once("connect", () => resolve()).once("error", reject));
  return c;
}

/** A device registered through the API (signed in), logged in over MQTT. */
async function loggedInDevice(productId: string, deviceName: string) {
  const secret = await registerDevice(s, productId, deviceName, { cookie: await signedIn() });
  const login = deviceCredentials(productId, deviceName, secret);
  return { login, device: await mqtt(login.clientId, login.username, login.password) };
}

describe("finding 10: malformed input", () => {
  it("a malformed cookie is no session: 401 on the API, {user: null} from /api/session, never 500", async () => {
    for (const cookie of ["rrpc_session=%E0%A4%A", "rrpc_session=%", "rrpc_session", "=; ;;=x"]) {
      const api = await fetch(`${s.url}/api/calls`, { headers: { cookie } });
      expect(api.status, cookie).toBe(401);
      const session = await fetch(`${s.url}/api/session`, { headers: { cookie } });
      expect(await session.json()).toEqual({ required: true, user: null, role: null });
    }
  });

  it("a malformed path is 404, never 500", async () => {
    const cookie = await signedIn();
    for (const path of ["/api/calls/%", "/api/calls/%E0%A4%A", "/api/devices/%/x", "/api/keys/%zz"]) {
      const r = await fetch(`${s.url}${path}`, { headers: { cookie } });
      expect(r.status, path).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });
});

describe("finding 10: hostile content", () => {
  it("CSV export neutralises cells a spreadsheet would run as formulas", async () => {
    const cookie = await signedIn();
    const { device } = await loggedInDevice("CSVPROD001", "-dash");
    try {
      await new Promise<void>((resolve, reject) => device.subscribe("$rrpc/rxd/CSVPROD001/-dash/+", (err) => (err ? reject(err) : resolve())));
      device.on("message", (topic) => device.publish(topic.replace("/rxd/", "/txd/"), "@SUM(1+1)"));
      const payload = '=HYPERLINK("http://evil.example","click")';
      const call = await fetch(`${s.url}/api/calls`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ productId: "CSVPROD001", deviceName: "-dash", payload }),
      });
      expect(call.status).toBe(200);
      const { processId } = (await call.json()) as CallJson;
      const csv = await (await fetch(`${s.url}/api/calls/export?format=csv&productId=CSVPROD001`, { headers: { cookie } })).text();
      const row = csv.split("\r\n")[1]!;
      expect(row.startsWith(`${processId},CSVPROD001,'-dash,success,`)).toBe(true);
      expect(row).toContain(`,"'=HYPERLINK(""http://evil.example"",""click"")",`);
      // The reply is the last payload column; who made the call follows it.
      expect(row).toContain(",'@SUM(1+1),operator,admin,admin,,");
      // The JSON export and the API keep the bytes as they are.
      const json = (await (await fetch(`${s.url}/api/calls/${processId}`, { headers: { cookie } })).json()) as CallJson;
      expect(json.request.payloadText).toBe(payload);
    } finally {
      await endMqtt(device, true);
    }
  });

  it("RRPC messages are never retained: a later subscriber gets no stored request or reply", async () => {
    const cookie = await signedIn();
    const { device } = await loggedInDevice("RETPROD001", "r1");
    const publish = (topic: string, payload: string, retain: boolean) =>
      new Promise<void>((resolve, reject) => device.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve())));
    const subscribe = (c: MqttClient, filter: string) =>
      new Promise<void>((resolve, reject) => c.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    // A retained reply (nobody asked for it), and a retained message on the device's own topics.
    await publish("$rrpc/txd/RETPROD001/r1/1000999999", "kept?", true);
    await publish("RETPROD001/r1/state", "on", true);

    // A live dashboard connects afterwards and watches every RRPC topic.
    const live = (await (await fetch(`${s.url}/api/live`, { headers: { cookie } })).json()) as {
      username: string;
      password: string;
      clientIdPrefix: string;
    };
    const observer = await mqtt(`${live.clientIdPrefix}attack`, live.username, live.password);
    const seen: { topic: string; retain: boolean }[] = [];
    observer.on("message", (topic, _p, packet) => seen.push({ topic, retain: packet.retain }));
    try {
      await subscribe(observer, "$rrpc/txd/#");
      // Positive control, looked up after the observer's: retention itself works on the device's own topics.
      const own: string[] = [];
      device.on("message", (topic, _p, packet) => packet.retain && own.push(topic));
      await subscribe(device, "RETPROD001/r1/#");
      await waitFor(() => own.includes("RETPROD001/r1/state"), "the device's own retained message");
      // Barrier: a fresh reply published after the subscription reaches the observer.
      await publish("$rrpc/txd/RETPROD001/r1/1000999998", "fresh", false);
      await waitFor(() => seen.some((m) => m.topic.endsWith("/1000999998")), "the fresh reply at the observer");
      expect(seen).toEqual([{ topic: "$rrpc/txd/RETPROD001/r1/1000999998", retain: false }]);
    } finally {
      await endMqtt(observer, true);
      await endMqtt(device, true);
    }
  });
});

describe("finding 10: refused publishes do not flood the log", () => {
  it("one line per client per minute, the topic cut short", async () => {
    const { login, device } = await loggedInDevice("LOGPROD001", "noisy");
    try {
      const long = `OTHERPROD1/victim/${"x".repeat(60_000)}`;
      for (let i = 0; i < 50; i++) {
        await new Promise<void>((resolve, reject) => device.publish(long, "x", { qos: 1 }, (err) => (err ? reject(err) : resolve())));
      }
      // Barrier: a refused subscription is logged after every refused publish above was handled.
      await new Promise<void>((resolve) => device.subscribe("OTHERPROD1/victim/#", () => resolve()));
      await waitFor(() => s.output().includes(`"subscription refused","clientId":"${login.clientId}"`), "the barrier's log line");
      const lines = s
        .output()
        .split("\n")
        .filter((l) => l.includes("publish refused and dropped") && l.includes(login.clientId));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.length).toBeLessThan(600);
    } finally {
      await endMqtt(device, true);
    }
  });
});

describe("finding 10: an impossible or damaged RRPC_DB", () => {
  async function refusedStart(dbPath: string): Promise<string> {
    const srv = await spawnServer({ RRPC_DB: dbPath });
    const code = await srv.exited;
    expect(code).toBe(1);
    return srv.output();
  }

  it("a path that cannot exist", async () => {
    expect(await refusedStart("/proc/nope/rrpc.db")).toContain("cannot open the database /proc/nope/rrpc.db (RRPC_DB)");
  });

  it("an empty file, and a file that is not a database", async () => {
    const empty = join(tempDir(), "empty.db");
    writeFileSync(empty, "");
    truncateSync(empty, 0);
    expect(await refusedStart(empty)).toContain(`cannot open the database ${empty} (RRPC_DB): the file is empty (0 bytes)`);
    const foreign = join(tempDir(), "foreign.db");
    writeFileSync(foreign, "this is a text file, not SQLite; it must not be overwritten\n".repeat(20));
    expect(await refusedStart(foreign)).toContain(`cannot open the database ${foreign} (RRPC_DB): file is not a database`);
  });
});
