/** Names and small helpers shared by the benchmark and soak processes (and the browser tests). */

/** The product every benchmark device belongs to. */
export const BENCH_PRODUCT = "BENCH00001";

/** Devices are dev0..devN-1 everywhere in the benchmarks. */
export const deviceName = (i: number, prefix = "dev") => `${prefix}${i}`;

export const deviceNames = (n: number, prefix = "dev") => Array.from({ length: n }, (_, i) => deviceName(i, prefix));

/** Runs `fn` over 0..n-1 with at most `parallel` running at a time. */
export async function inBatches(n: number, parallel: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
}

/** A printable payload of `bytes` bytes (the reference broker measurements used 64). */
export const benchPayloadText = (bytes = 64) => "x".repeat(bytes);

/**
 * Calls `send(0)` … `send(total - 1)` at `rate` a second, paced by the clock rather than by how
 * fast this process can send: every 5 ms it sends what is due by then, so a process that falls
 * behind catches up. Resolves when the last is sent, with the time it took.
 */
export function pacedStream(rate: number, total: number, send: (i: number) => void): Promise<{ seconds: number }> {
  const started = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; sent < due; sent++) send(sent);
      if (sent < total) return;
      clearInterval(timer);
      resolve({ seconds: (performance.now() - started) / 1000 });
    };
    const timer = setInterval(tick, 5);
  });
}
