import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { log } from "./log";

/** How often the worker copies the WAL back into the database file. */
export const CHECKPOINT_EVERY_MS = 500;

// Plain CommonJS run with `eval`: the store is also bundled by Next.js (next dev), where a worker
// file path would not survive. better-sqlite3 is resolved from the project directory.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createRequire } = require("node:module");
let db;
try {
  const Database = createRequire(workerData.base)("better-sqlite3");
  db = new Database(workerData.path);
  db.pragma("busy_timeout = 1000");
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) });
  process.exit(0);
}
parentPort.postMessage({ ready: true });
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.everyMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * WAL checkpoints on a worker thread with its own connection. SQLite's automatic checkpoint runs
 * inside whichever commit crosses 1,000 pages, on the hub's thread: copying the pages back and
 * the two fsyncs of synchronous=NORMAL were about a third of each batched write (bench/store
 * writes, wall time). A PASSIVE checkpoint never blocks the writer; once one has copied the whole
 * WAL, the writer's next transaction starts the WAL over, so it stays small.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  /** `onUnavailable` runs if the worker cannot open the database: the caller falls back to SQLite's own checkpoints. */
  constructor(path: string, onUnavailable: () => void, everyMs = CHECKPOINT_EVERY_MS) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { path, base: join(process.cwd(), "package.json"), everyMs } });
    this.worker.unref();
    let ready = false;
    this.worker.on("message", (m: { ready?: true; error?: string }) => {
      if (m.ready) ready = true;
      else if (m.error && !ready) {
        log.warn("WAL checkpoint worker unavailable: SQLite checkpoints on the hub's thread", { error: m.error });
        onUnavailable();
      } else if (m.error) log.warn("WAL checkpoint failed", { error: m.error });
    });
    this.worker.on("error", (err) => {
      if (this.stopped) return;
      log.warn("WAL checkpoint worker failed: SQLite checkpoints on the hub's thread", { error: err.message });
      onUnavailable();
    });
  }

  /** Closes the worker's connection; the thread then ends by itself. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage("stop");
  }
}
