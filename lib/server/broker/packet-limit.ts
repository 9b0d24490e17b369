import type { Duplex } from "node:stream";

/**
 * Follows the MQTT fixed headers in a byte stream (MQTT 3.1.1 §2.2: a type byte, then the
 * remaining length in 1–4 bytes of 7 bits) and says no as soon as a packet announces more than
 * `max` bytes, or a malformed length: before its body is read, before any authentication.
 */
export class PacketSizeGuard {
  private skip = 0;
  /** -1: the next byte is a packet's type; 0..3: length bytes read so far. */
  private lengthBytes = -1;
  private length = 0;
  private multiplier = 1;

  constructor(private readonly max: number) {}

  accept(buf: Uint8Array): boolean {
    let i = 0;
    while (i < buf.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - i);
        this.skip -= n;
        i += n;
      } else if (this.lengthBytes === -1) {
        i++;
        this.lengthBytes = 0;
        this.length = 0;
        this.multiplier = 1;
      } else {
        const b = buf[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (this.length > this.max) return false;
        if ((b & 0x80) === 0) {
          this.skip = this.length;
          this.lengthBytes = -1;
        } else if (this.lengthBytes === 4) return false;
      }
    }
    return true;
  }
}

/**
 * Destroys `conn` when a packet on it announces more than `max` bytes. aedes pulls bytes with
 * `conn.read()`; they are inspected there, so nothing of such a packet is buffered beyond what
 * the socket already holds.
 */
export function limitPacketSize<T extends Duplex>(conn: T, max: number, onRefused: () => void): T {
  const guard = new PacketSizeGuard(max);
  const read = conn.read.bind(conn);
  conn.read = (size?: number) => {
    const chunk = read(size) as Buffer | string | null;
    if (chunk !== null && typeof chunk !== "string" && !guard.accept(chunk)) {
      onRefused();
      conn.destroy();
      return null;
    }
    return chunk;
  };
  return conn;
}
