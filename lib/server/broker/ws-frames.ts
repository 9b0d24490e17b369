import type { Duplex } from "node:stream";

type Chunk = { chunk: Buffer | string; encoding: BufferEncoding };

/**
 * Sends what is written to `stream` (ws's createWebSocketStream) in one turn of the event loop as
 * one WebSocket frame, and what is written while the previous frame is still being sent with the
 * next. mqtt-packet writes a PUBLISH in four or five pieces, and ws's stream makes a frame of each
 * write: a browser watching a flood of messages (the live timeline) then handled four or five
 * frames per message, each costing its network service, its browser process and the page's
 * worker (docs/benchmarks.md, "Live timeline in Chromium"). Held until setImmediate: no later
 * than the end of the turn. MQTT over WebSocket is a byte stream: packets may share or span
 * frames (docs/protocol.md, "Transport").
 */
export function oneFramePerTurn<T extends Duplex>(stream: T): T {
  const s = stream as unknown as {
    _write(chunk: Buffer, encoding: BufferEncoding | "buffer", cb: (err?: Error | null) => void): void;
    _writev(chunks: Chunk[], cb: (err?: Error | null) => void): void;
  };
  s._writev = (chunks, cb) => {
    const bufs = chunks.map((c) => (typeof c.chunk === "string" ? Buffer.from(c.chunk, c.encoding) : c.chunk));
    s._write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs), "buffer", cb);
  };
  let held = false;
  const release = () => {
    held = false;
    stream.uncork();
  };
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    if (!held && !stream.destroyed) {
      held = true;
      stream.cork();
      setImmediate(release);
    }
    return write(...args);
  }) as T["write"];
  return stream;
}
