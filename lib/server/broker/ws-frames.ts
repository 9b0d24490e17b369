import type { Duplex } from "node:stream";

type Chunk = { chunk: Buffer | string; encoding: BufferEncoding };

/**
 * Sends what is written to `stream` (ws's createWebSocketStream) while it is corked, or while
 * its previous frame is still being sent, as one WebSocket frame. mqtt-packet writes a PUBLISH in
 * four or five pieces between cork() and uncork(), and ws's stream makes a frame of each write:
 * a browser then handles four or five frames per message (docs/benchmarks.md, "Live timeline in
 * Chromium"). MQTT over WebSocket is a byte stream: packets may share or span frames
 * (docs/protocol.md, "Transport").
 */
export function oneFramePerFlush<T extends Duplex>(stream: T): T {
  const s = stream as unknown as {
    _write(chunk: Buffer, encoding: BufferEncoding | "buffer", cb: (err?: Error | null) => void): void;
    _writev(chunks: Chunk[], cb: (err?: Error | null) => void): void;
  };
  s._writev = (chunks, cb) => {
    const bufs = chunks.map((c) => (typeof c.chunk === "string" ? Buffer.from(c.chunk, c.encoding) : c.chunk));
    s._write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs), "buffer", cb);
  };
  return stream;
}
