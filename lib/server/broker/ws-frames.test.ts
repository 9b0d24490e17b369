import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { WebSocket, WebSocketServer, createWebSocketStream } from "ws";
import mqttPacket from "mqtt-packet";
import { connectMqtt, endMqtt } from "./mqtt-client";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded";
import { oneFramePerTurn } from "./ws-frames";
import { waitFor } from "../testing/servers";

/** A WebSocket client that records every frame it receives. */
async function frameCounter(url: string): Promise<{ ws: WebSocket; frames: Buffer[] }> {
  const ws = new WebSocket(url, "mqtt");
  const frames: Buffer[] = [];
  ws.on("message", (data) => frames.push(data as Buffer));
  await once(ws, "open");
  return { ws, frames };
}

describe("oneFramePerTurn", () => {
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

  it("sends what was written in one turn of the event loop as one frame, and a later turn's as another", async () => {
    http = createServer();
    const wss = new WebSocketServer({ server: http });
    const server = new Promise<ReturnType<typeof createWebSocketStream>>((resolve) =>
      wss.on("connection", (ws) => resolve(oneFramePerTurn(createWebSocketStream(ws)))),
    );
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const { ws, frames } = await frameCounter(`ws://127.0.0.1:${(http.address() as { port: number }).port}`);
    sockets.push(ws);
    const stream = await server;

    stream.write(Buffer.from([1, 2]));
    stream.write("ab", "utf8");
    stream.cork();
    stream.write(Buffer.from([3]));
    stream.uncork();
    await waitFor(() => frames.length === 1, "one frame");
    expect([...frames[0]!]).toEqual([1, 2, 0x61, 0x62, 3]);

    // A later turn: a frame of its own.
    await new Promise((r) => setImmediate(r));
    stream.write(Buffer.from([4]));
    await waitFor(() => frames.length === 2, "a second frame");
    expect([...frames[1]!]).toEqual([4]);
    wss.close();
  });

  it("lets a WebSocket subscriber of the embedded broker receive a PUBLISH in one frame, and many in few", async () => {
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
      const parse = (frame: Buffer) => {
        const parser = mqttPacket.parser();
        const packets: mqttPacket.IPublishPacket[] = [];
        parser.on("packet", (p) => packets.push(p as mqttPacket.IPublishPacket));
        parser.parse(frame);
        return packets.map((p) => `${p.cmd} ${p.topic} ${p.payload.toString()}`);
      };
      expect(parse(frames[2]!)).toEqual(["publish t/one hello"]);

      // Messages that arrive together (one TCP write) go out together, whole, in order.
      const before = frames.length;
      const raw = connect(broker.tcpPort, "127.0.0.1");
      await once(raw, "connect");
      raw.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "raw", clean: true, keepalive: 30 }));
      await once(raw, "data");
      const publishes = Array.from({ length: 50 }, (_, i) =>
        mqttPacket.generate({ cmd: "publish", topic: `t/${i}`, payload: Buffer.from(String(i)), qos: 0, dup: false, retain: false }),
      );
      raw.write(Buffer.concat(publishes));
      onTestFinished(() => void raw.destroy());
      const expected = Array.from({ length: 50 }, (_, i) => `publish t/${i} ${i}`);
      await waitFor(() => parse(Buffer.concat(frames.slice(before))).length === 50, "50 PUBLISHes");
      expect(parse(Buffer.concat(frames.slice(before)))).toEqual(expected);
      expect(frames.length - before).toBeLessThan(50);
    } finally {
      await endMqtt(publisher, true);
    }
  });
});
