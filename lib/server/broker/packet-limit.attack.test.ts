/**
 * Attack suite (issue: hardening), finding 2 — a client announcing a huge packet made the broker
 * buffer it, before authentication. Against the production server: such a connection, over TCP
 * or WebSocket, is closed from the packet's header; so is a signed-in device's over-size
 * publish; four connections streaming such packets leave memory where it was; the hub keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import WebSocket from "ws";
import { connectMqtt, endMqtt } from "./mqtt-client";
import { deviceCredentials } from "../auth/device-auth";
import { registerDevice, rssMiB, startServer, waitFor, type ServerHandle } from "../testing/servers";

let s: ServerHandle;
beforeAll(async () => {
  s = await startServer({ MQTT_MAX_PACKET: String(256 * 1024) });
});
afterAll(async () => {
  await s?.stop();
});

/** A CONNECT whose header announces 250 MB, then a trickle of bytes. */
const HUGE_CONNECT = Buffer.concat([Buffer.from([0x10, 0x80, 0x80, 0x80, 0x78]), Buffer.alloc(1024, 0x41)]);

async function healthy() {
  const r = await fetch(`${s.url}/api/calls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" }),
  });
  expect(r.status).toBe(200);
}

describe("finding 2: MQTT packet size, before authentication", () => {
  it("closes a TCP connection whose CONNECT announces 250 MB", async () => {
    const socket = connect(s.mqttPort, "127.0.0.1");
    let closed = false;
    socket.on("close", () => (closed = true));
    socket.on("error", () => undefined);
    socket.write(HUGE_CONNECT);
    await waitFor(() => closed, "the broker to close the connection");
    await healthy();
  });

  it("keeps memory bounded while four connections announce 250 MB each and keep sending", async () => {
    const before = rssMiB(s.proc.pid!);
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(s.mqttPort, "127.0.0.1");
            socket.on("error", () => undefined);
            socket.on("close", () => resolve());
            socket.write(HUGE_CONNECT);
            // 64 MiB more each, as fast as the socket takes it, until the broker closes it.
            let sent = 0;
            const pump = () => {
              while (sent < 64 && !socket.destroyed) {
                sent++;
                if (!socket.write(chunk)) return void socket.once("drain", pump);
              }
              socket.end();
            };
            pump();
          }),
      ),
    );
    // Before the limit, these four took the server from 361 MB to 1,128 MB.
    expect(rssMiB(s.proc.pid!) - before).toBeLessThan(100);
    await healthy();
  });

  it("closes a WebSocket connection that does the same", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.wsPort}/mqtt`, "mqtt");
    let closed = false;
    ws.on("close", () => (closed = true));
    ws.on("error", () => undefined);
    await new Promise<void>((resolve) => ws.once("open", () => resolve()));
    ws.send(HUGE_CONNECT);
    await waitFor(() => closed, "the broker to close the WebSocket");
    await healthy();
  });

  it("closes a signed-in device's connection when it publishes more than the limit", async () => {
    const secret = await registerDevice(s, "BIGPROD001", "big");
    const login = deviceCredentials("BIGPROD001", "big", secret);
    const c = connectMqtt(`mqtt://127.0.0.1:${s.mqttPort}`, { ...login, reconnectPeriod: 0 });
    let closed = false;
    c.on("close", () => (closed = true));
    c.on("error", () => undefined);
    try {
      await new Promise<void>((resolve, reject) => c.once("connect", () => resolve()).once("error", reject));
      c.publish("BIGPROD001/big/blob", Buffer.alloc(300 * 1024), { qos: 0 });
      await waitFor(() => closed, "the broker to close the device's connection");
      expect(s.output()).toContain("MQTT packet over the size limit: connection closed");
      await healthy();
    } finally {
      await endMqtt(c, true);
    }
  });
});
