import { Worker } from "node:worker_threads";
import { log } from "../core/log";
import type { CallRecord } from "../core/call";

export { unpackRows } from "./rows.mjs";

/** How often the worker copies the WAL back into the database file. */
export const CHECKPOINT_EVERY_MS = 500;
/** How long a reader waits for the worker to commit before writing on its own connection. */
const COMMIT_WAIT_MS = 10_000;

/**
 * A batch of calls as it crosses to the writer thread: one JSON string and one buffer holding
 * every payload. Posting each call as an array with its own Uint8Arrays cost the hub's thread
 * more (structured clone, an ArrayBuffer per payload: about 8 µs per call) than the SQLite
 * writes it was meant to move away.
 */
export type PackedBatch = { rows: string; bytes: Uint8Array<ArrayBuffer> };

export function packCalls(calls: readonly CallRecord[]): PackedBatch {
  let total = 0;
  for (const c of calls) total += c.request.byteLength + (c.reply?.byteLength ?? 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  const put = (b: Uint8Array) => {
    bytes.set(b, at);
    at += b.byteLength;
    return at - b.byteLength;
  };
  const rows = calls.map((c) => [
    c.messageId,
    c.productId,
    c.deviceName,
    c.source,
    c.status,
    put(c.request),
    c.request.byteLength,
    c.reply ? put(c.reply) : -1,
    c.reply?.byteLength ?? 0,
    c.timeoutMs,
    c.startedAt,
    c.endedAt ?? null,
    c.rttMs ?? null,
    c.events,
  ]);
  return { rows: JSON.stringify(rows), bytes };
}

/**
 * Writes the store's batches and checkpoints the WAL on a worker thread with its own
 * connection. On the hub's thread the SQLite work was the largest item of the engine's profile
 * (about 8–15 µs per call: the inserts, their index pages, the commit and, every 1,000 pages, a
 * checkpoint with its fsyncs); in the production layout that thread also runs the broker.
 * A PASSIVE checkpoint never blocks the writer; once one has copied the whole WAL, the next
 * transaction starts the WAL over, so it stays small.
 *
 * Batches are committed in the order posted. `waitForCommits` blocks (Atomics.wait) until all of
 * them are, so the store's synchronous reads see everything saved before them.
 */
export class StoreWriter {
  /** Public so that a test can end the thread as a crash would. */
  readonly worker: Worker;
  private readonly committed = new Int32Array(new SharedArrayBuffer(4));
  private posted = 0;
  private dead = false;
  private stopped = false;

  /** `onUnavailable` runs if the worker cannot open the database or dies: the caller then writes on its own connection. */
  constructor(
    path: string,
    upsertSql: string,
    private readonly onUnavailable: () => void,
    checkpointEveryMs = CHECKPOINT_EVERY_MS,
  ) {
    // Beside this module in the sources, and beside the compiled server in dist/.
    this.worker = new Worker(new URL("./writer-thread.mjs", import.meta.url), {
      workerData: { path, upsertSql, checkpointEveryMs, committed: this.committed.buffer },
    });
    this.worker.unref();
    this.worker.on("message", (m: { ready?: true; unavailable?: string; warn?: string; failed?: number; error?: string }) => {
      if (m.unavailable) this.fail(`cannot open the database: ${m.unavailable}`);
      else if (m.warn) log.warn(m.warn);
      else if (m.failed) log.error("store write failed: calls not recorded", { calls: m.failed, error: m.error });
    });
    this.worker.on("error", (err) => this.fail(err.message));
    this.worker.on("exit", () => {
      if (!this.stopped) this.fail("the worker exited");
    });
  }

  get available(): boolean {
    return !this.dead;
  }

  /** Posts one batch; false if the worker is gone (the caller writes it itself). */
  post(batch: PackedBatch, calls: number): boolean {
    if (this.dead) return false;
    if (this.worker.threadId === -1) {
      this.fail("the worker exited");
      return false;
    }
    this.worker.postMessage({ seq: ++this.posted, batch, calls }, [batch.bytes.buffer]);
    return true;
  }

  /** The sequence number of the last batch posted; batches up to `committedSeq` are in the file. */
  get postedSeq(): number {
    return this.posted;
  }

  get committedSeq(): number {
    return Atomics.load(this.committed, 0);
  }

  /** Blocks until every batch posted is committed; false if the worker died or did not answer in time. */
  waitForCommits(): boolean {
    const deadline = Date.now() + COMMIT_WAIT_MS;
    for (;;) {
      const done = Atomics.load(this.committed, 0);
      if (done >= this.posted) return true;
      // threadId is -1 once the thread has ended, before its 'exit' event (which cannot arrive
      // while this loop blocks the event loop).
      if (this.dead || this.worker.threadId === -1 || Date.now() >= deadline) {
        this.fail("no commit in time");
        return false;
      }
      Atomics.wait(this.committed, 0, done, 50);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.dead) this.worker.postMessage("stop");
  }

  private fail(why: string) {
    if (this.dead || this.stopped) return;
    this.dead = true;
    log.warn("store writer thread unavailable: writing on the hub's thread", { reason: why });
    void this.worker.terminate();
    this.onUnavailable();
  }
}
