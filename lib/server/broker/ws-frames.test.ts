import { afterEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { WebSocket, WebSocketServer, createWebSocketStream } from "ws";
import mqttPacket from "mqtt-packet";
import { connectMqtt, endMqtt } from "./mqtt-client";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded";
import { oneFramePerFlush } from "./ws-frames";
import { waitFor } from "../testing/servers";

/** A WebSocket client that records every frame it receives. */
async function frameCounter(url: string): Promise<{ ws: WebSocket; frames: Buffer[] }> {
  const ws = new WebSocket(url, "mqtt");
  const frames: Buffer[] = [];
  ws.on("message", (data) => frames.push(data as Buffer));
  await once(ws, "open");
  return { ws, frames };
}

describe("oneFramePerFlush", () => {
  let http: Server | null = null;
  let broker: EmbeddedBroker | null = null;
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    if (http) await new Promise((r) => http!.close(r));
    http = null;
    await broker?.close();
    broker = null;
  });

  it("sends what was written while corked as one frame, and later writes as they come", async () => {
    http = createServer();
    const wss = new WebSocketServer({ server: http });
    const server = new Promise<ReturnType<typeof createWebSocketStream>>((resolve) =>
      wss.on("connection", (ws) => resolve(oneFramePerFlush(createWebSocketStream(ws)))),
    );
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const { ws, frames } = await frameCounter(`ws://127.0.0.1:${(http.address() as { port: number }).port}`);
    sockets.push(ws);
    const stream = await server;

    stream.cork();
    stream.write(Buffer.from([1, 2]));
    stream.write("ab", "utf8");
    stream.write(Buffer.from([3]));
    stream.uncork();
    await waitFor(() => frames.length === 1, "one frame");
    expect([...frames[0]!]).toEqual([1, 2, 0x61, 0x62, 3]);

    stream.write(Buffer.from([4]));
    await waitFor(() => frames.length === 2, "a second frame");
    expect([...frames[1]!]).toEqual([4]);
    wss.close();
  });

  it("lets a WebSocket subscriber of the embedded broker receive a PUBLISH in one frame", async () => {
    broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver: () => false });
    const { ws, frames } = await frameCounter(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
    sockets.push(ws);
    ws.send(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "frames", clean: true, keepalive: 30 }));
    await waitFor(() => frames.length === 1, "CONNACK");
    ws.send(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t/#", qos: 0 }] }));
    await waitFor(() => frames.length === 2, "SUBACK");

    const publisher = connectMqtt(`mqtt://127.0.0.1:${broker.tcpPort}`, { clientId: "publisher" });
    try {
      await new Promise((resolve) => publisher.once("connect", resolve));
      publisher.publish("t/one", Buffer.from("hello"), { qos: 0 });
      await waitFor(() => frames.length === 3, "the PUBLISH");
      const parser = mqttPacket.parser();
      const packets: mqttPacket.Packet[] = [];
      parser.on("packet", (p) => packets.push(p));
      parser.parse(frames[2]!);
      expect(packets).toHaveLength(1);
      expect(packets[0]).toMatchObject({ cmd: "publish", topic: "t/one" });
      expect((packets[0] as mqttPacket.IPublishPacket).payload.toString()).toBe("hello");
    } finally {
      await endMqtt(publisher, true);
    }
  });
});
