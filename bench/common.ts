/** Names and small helpers shared by the benchmark and soak processes. */

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
