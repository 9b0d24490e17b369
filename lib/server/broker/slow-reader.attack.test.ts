/**
 * Attack suite (issue: hardening), finding 1 — one subscriber that stops reading its socket
 * stalled every call to every device. Against the production server: a device that subscribes,
 * then never reads again, is flooded with requests; calls to another device keep succeeding
 * meanwhile, and the stalled device is disconnected once too much waits for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { deviceCredentials } from "../auth/device-auth";
import { deviceRequestFilter } from "../../rrpc/topics";
import { registerDevice, startServer, waitFor, type ServerHandle } from "../testing/servers";

let s: ServerHandle;
beforeAll(async () => {
  s = await startServer({});
});
afterAll(async () => {
  await s?.stop();
});

/** A device that logs in and subscribes to its requests, then stops reading its socket. */
async function stalledDevice(productId: string, deviceName: string): Promise<Socket> {
  const login = deviceCredentials(productId, deviceName, await registerDevice(s, productId, deviceName));
  const socket = connect(s.mqttPort, "127.0.0.1");
  const parser = mqttPacket.parser();
  const seen: string[] = [];
  parser.on("packet", (p) => seen.push(p.cmd));
  socket.on("data", (d) => parser.parse(d));
  socket.on("error", () => undefined);
  const { clientId, username, password } = login;
  socket.write(
    mqttPacket.generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: true,
      keepalive: 0,
      clientId,
      username,
      password: Buffer.from(password),
    }),
  );
  await waitFor(() => seen.includes("connack"), "CONNACK");
  socket.write(
    mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: deviceRequestFilter(productId, deviceName), qos: 0 }] }),
  );
  await waitFor(() => seen.includes("suback"), "SUBACK");
  socket.removeAllListeners("data");
  socket.pause();
  return socket;
}

const call = (deviceName: string, payload: string, timeoutMs?: number) =>
  fetch(`${s.url}/api/calls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: deviceName === "airConditioner1" ? "AIRCOND001" : "SLOWPROD01", deviceName, payload, timeoutMs }),
  }).then((r) => r.status);

describe("finding 1: a subscriber that stops reading", () => {
  it("costs only itself: other devices' calls succeed while it is flooded, and it is disconnected", async () => {
    const stuck = await stalledDevice("SLOWPROD01", "stuck");
    let closed = false;
    stuck.on("close", () => (closed = true));
    const big = "x".repeat(120 * 1024);
    const flood = Array.from({ length: 150 }, () => call("stuck", big, 300));
    const probes: number[] = [];
    for (let i = 0; i < 20; i++) probes.push(await call("airConditioner1", `probe ${i}`));
    expect(probes).toEqual(Array(20).fill(200));
    const outcomes = await Promise.all(flood);
    // Each flood call ended: timed out while the device was connected, offline once it was dropped.
    expect(outcomes.filter((x) => x !== 504 && x !== 409)).toEqual([]);
    stuck.resume();
    await waitFor(() => closed, "the stalled device to be disconnected");
    expect(s.output()).toContain("MQTT client reads too slowly: disconnected");
  });
});
