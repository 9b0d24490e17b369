import { describe, expect, it } from "vitest";
import mqttPacket from "mqtt-packet";
import { PacketSizeGuard } from "./packet-limit";

const publish = (bytes: number) =>
  mqttPacket.generate({ cmd: "publish", topic: "a/b", payload: Buffer.alloc(bytes), qos: 0, dup: false, retain: false, messageId: 0 });

describe("PacketSizeGuard", () => {
  it("accepts packets up to the limit, however the bytes are split", () => {
    const stream = Buffer.concat([publish(0), publish(100), publish(995), publish(10)]);
    for (const step of [1, 2, 3, 7, stream.length]) {
      const g = new PacketSizeGuard(1000);
      for (let i = 0; i < stream.length; i += step) expect(g.accept(stream.subarray(i, i + step)), `step ${step}`).toBe(true);
    }
  });

  it("refuses a packet that announces more, from its header alone", () => {
    const big = publish(1001).subarray(0, 4); // type byte and length: the body never arrives
    const g = new PacketSizeGuard(1000);
    expect(g.accept(publish(10))).toBe(true);
    expect(g.accept(big)).toBe(false);
    // 250 MB announced in a CONNECT's header.
    const connect = Buffer.from([0x10, 0x80, 0x80, 0x80, 0x78]);
    expect(new PacketSizeGuard(2 ** 21).accept(connect)).toBe(false);
  });

  it("refuses a malformed length (a fifth length byte)", () => {
    expect(new PacketSizeGuard(2 ** 30).accept(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
  });
});
