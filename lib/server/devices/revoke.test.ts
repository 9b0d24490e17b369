/**
 * Disabling, deleting or re-keying a device ends its connection at once (the login it was
 * authenticated with is no longer valid), and the next login with the old credential is refused.
 * Against the production server with real MQTT clients.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MqttClient } from "mqtt";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { deviceCredentials } from "../auth/device-auth";
import { registerDevice, startServer, waitFor, type ServerHandle } from "../testing/servers";
import type { NewDevice } from "../../rrpc/api";

const P = "REVOKE0001";
let s: ServerHandle;
const clients: MqttClient[] = [];
beforeAll(async () => {
  s = await startServer({ RRPC_SIMULATOR: "0" });
});
afterAll(async () => {
  for (const c of clients) await endMqtt(c, true);
  await s?.stop();
});

type Login = { client: MqttClient; closed: () => boolean };

/** A device login; resolves once connected, or rejects with the CONNACK's refusal. */
async function login(deviceName: string, secret: string): Promise<Login> {
  const c = connectMqtt(`mqtt://127.0.0.1:${s.mqttPort}`, { ...deviceCredentials(P, deviceName, secret), reconnectPeriod: 0 });
  clients.push(c);
  let closed = false;
  c.on("close", () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  return { client: c, closed: () => closed };
}

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${s.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("revoking a device's login", () => {
  it("disabling closes its connection and refuses the next login; enabling lets it back; other devices stay", async () => {
    const secret = await registerDevice(s, P, "dis");
    const bystanderSecret = await registerDevice(s, P, "bystander");
    const bystander = await login("bystander", bystanderSecret);
    const d = await login("dis", secret);
    expect((await api("PATCH", `/api/devices/${P}/dis`, { disabled: true })).status).toBe(200);
    await waitFor(() => d.closed(), "the disabled device's connection to close");
    await expect(login("dis", secret)).rejects.toMatchObject({ code: 5 });
    expect((await api("PATCH", `/api/devices/${P}/dis`, { disabled: false })).status).toBe(200);
    expect((await login("dis", secret)).closed()).toBe(false);
    expect(bystander.closed()).toBe(false);
    expect(s.output()).toContain("device disconnected: its login was revoked");
  });

  it("a new secret closes the connection made with the old one; the old one is refused, the new one logs in", async () => {
    const old = await registerDevice(s, P, "rekey");
    const d = await login("rekey", old);
    const r = await api("POST", `/api/devices/${P}/rekey/secret`);
    expect(r.status).toBe(200);
    const { secret } = (await r.json()) as NewDevice;
    expect(secret).not.toBe(old);
    await waitFor(() => d.closed(), "the connection made with the old secret to close");
    await expect(login("rekey", old)).rejects.toMatchObject({ code: 4 });
    expect((await login("rekey", secret)).closed()).toBe(false);
  });

  it("deleting closes its connection and refuses the next login; an unknown device gets 404", async () => {
    const secret = await registerDevice(s, P, "del");
    const d = await login("del", secret);
    expect((await api("DELETE", `/api/devices/${P}/del`)).status).toBe(204);
    await waitFor(() => d.closed(), "the deleted device's connection to close");
    await expect(login("del", secret)).rejects.toMatchObject({ code: 4 });
    expect((await api("POST", `/api/devices/${P}/del/secret`)).status).toBe(404);
  });
});
