import { Worker } from "node:worker_threads";
import { log } from "../core/log";
import type { CallRecord } from "../core/call";
import type { CallStatus } from "../../rrpc/types";
import { EVENTS, OUTCOME, ROW } from "./rows.mjs";

/** How often the worker copies the WAL back into the database file. */
export const CHECKPOINT_EVERY_MS = 500;
/** How long a reader waits for the worker to commit before writing on its own connection. */
const COMMIT_WAIT_MS = 10_000;

/** How much of a call a write has put in the file: its row with this status (null: no row yet) and its first `events` events. */
export type Written = { status: CallStatus | null; events: number };
export const NOTHING_WRITTEN: Written = { status: null, events: 0 };

/**
 * A batch of calls as it crosses to the writer thread: one JSON string of rows, one string
 * holding each row's events as the JSON text the store keeps (a row gives its offset and length
 * in it, so the writer stores that text as it is instead of parsing and serialising it again),
 * and one buffer holding every payload. Posting each call as an array with its own Uint8Arrays
 * cost the hub's thread more (structured clone, an ArrayBuffer per payload: about 8 µs per
 * call) than the SQLite writes it was meant to move away.
 */
export type PackedBatch = { rows: string; events: string; bytes: Uint8Array<ArrayBuffer> };

/**
 * What each call needs written since `from`: its whole row the first time, then its outcome
 * when the status changed, and its new events as a chunk of their own. A call's row and trace
 * are never rewritten: a device flooding replies to one call must not rewrite its reply and
 * every earlier event once per batch. Calls with nothing new are left out (`written` is null).
 */
export function packCalls(calls: readonly { call: CallRecord; from: Written }[]): { batch: PackedBatch; written: (Written | null)[] } {
  let total = 0;
  const kinds = calls.map(({ call: c, from }) => {
    const kind = from.status === null ? ROW : from.status !== c.status ? OUTCOME : c.events.length > from.events ? EVENTS : -1;
    if (kind === ROW) total += c.request.byteLength;
    if (kind === ROW || kind === OUTCOME) total += c.reply?.byteLength ?? 0;
    return kind;
  });
  const bytes = new Uint8Array(total);
  let at = 0;
  const put = (b: Uint8Array | undefined) => {
    if (!b) return -1;
    bytes.set(b, at);
    at += b.byteLength;
    return at - b.byteLength;
  };
  const rows: unknown[] = [];
  let events = "";
  const written = calls.map(({ call: c, from }, i) => {
    const kind = kinds[i]!;
    if (kind < 0) return null;
    const first = kind === ROW ? 0 : from.events;
    const withReply = kind !== EVENTS;
    const text = c.events.length > first ? JSON.stringify(c.events.slice(first)) : "";
    events += text;
    rows.push([
      kind,
      c.messageId,
      c.productId,
      c.deviceName,
      c.source,
      c.status,
      kind === ROW ? put(c.request) : -1,
      c.request.byteLength,
      withReply ? put(c.reply) : -1,
      c.reply?.byteLength ?? 0,
      c.timeoutMs,
      c.startedAt,
      c.endedAt ?? null,
      c.rttMs ?? null,
      first,
      events.length - text.length,
      text.length,
      c.batchId ?? null,
      c.commandId ?? null,
      c.caller?.kind ?? null,
      c.caller?.id ?? null,
      c.caller?.name ?? null,
    ]);
    return { status: c.status, events: c.events.length };
  });
  return { batch: { rows: JSON.stringify(rows), events, bytes }, written };
}

/**
 * Writes the store's batches and checkpoints the WAL on a worker thread with its own
 * connection. On the hub's thread the SQLite work was the largest item of the engine's profile
 * (about 8–15 µs per call: the inserts, their index pages, the commit and, every 1,000 pages, a
 * checkpoint with its fsyncs); in the production layout that thread also runs the broker.
 * A PASSIVE checkpoint never blocks the writer; once one has copied the whole WAL, the next
 * transaction starts the WAL over, so it stays small.
 *
 * Batches are committed in the order posted, every batch waiting in the worker's queue in one
 * transaction (group commit); the worker answers each such run with a message (committed or why
 * not). `waitForBatches` blocks (Atomics.wait) until it has finished all of them, so the
 * store's synchronous reads see everything saved before them.
 */
export class StoreWriter {
  /** Public so that a test can end the thread as a crash would. */
  readonly worker: Worker;
  /** The sequence number of the last batch the worker has finished, committed or not (its message says which), and the number that failed. */
  private readonly done = new Int32Array(new SharedArrayBuffer(8));
  private posted = 0;
  private dead = false;
  private stopped = false;

  /**
   * `onDone` runs for each run of batches the worker committed together (`first` to `last`, in
   * order), with the error if they were not committed.
   * `onUnavailable` runs if the worker cannot open the database or dies: batches without an
   * `onDone` then have an unknown fate, and the caller writes on its own connection.
   */
  constructor(
    path: string,
    private readonly onDone: (first: number, last: number, error: string | undefined) => void,
    private readonly onUnavailable: () => void,
    checkpointEveryMs = CHECKPOINT_EVERY_MS,
  ) {
    // Beside this module in the sources, and beside the compiled server in dist/.
    this.worker = new Worker(new URL("./writer-thread.mjs", import.meta.url), {
      workerData: { path, checkpointEveryMs, done: this.done.buffer },
    });
    this.worker.unref();
    this.worker.on("message", (m: { ready?: true; unavailable?: string; warn?: string; done?: number; first?: number; error?: string }) => {
      if (m.done !== undefined) {
        if (!this.dead) this.onDone(m.first!, m.done, m.error);
      } else if (m.unavailable) this.fail(`cannot open the database: ${m.unavailable}`);
      else if (m.warn) log.warn(m.warn);
    });
    this.worker.on("error", (err) => this.fail(err.message));
    this.worker.on("exit", () => {
      if (!this.stopped) this.fail("the worker exited");
    });
  }

  get available(): boolean {
    return !this.dead;
  }

  /** Posts one batch and returns its sequence number; 0 if the worker is gone (the caller writes it itself). */
  post(batch: PackedBatch): number {
    if (this.dead) return 0;
    if (this.worker.threadId === -1) {
      this.fail("the worker exited");
      return 0;
    }
    this.worker.postMessage({ seq: ++this.posted, batch }, [batch.bytes.buffer]);
    return this.posted;
  }

  /** The sequence number of the last batch posted. */
  get postedSeq(): number {
    return this.posted;
  }

  /** How many batches have failed so far (also before their messages arrive). */
  get failures(): number {
    return Atomics.load(this.done, 1);
  }

  /** Blocks until the worker has finished every batch posted; false if it died or did not answer in time. */
  waitForBatches(): boolean {
    const deadline = Date.now() + COMMIT_WAIT_MS;
    for (;;) {
      const done = Atomics.load(this.done, 0);
      if (done >= this.posted) return true;
      // threadId is -1 once the thread has ended, before its 'exit' event (which cannot arrive
      // while this loop blocks the event loop).
      if (this.dead || this.worker.threadId === -1 || Date.now() >= deadline) {
        this.fail("no commit in time");
        return false;
      }
      Atomics.wait(this.done, 0, done, 50);
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
