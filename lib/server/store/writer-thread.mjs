// The store's writer thread (writer.ts): commits batches of calls on its own SQLite connection
// and checkpoints the WAL. Plain JavaScript so that the same file runs from the sources (tests,
// tsx) and next to the compiled server (dist/).
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";
import { batchWriter } from "./rows.mjs";

const done = new Int32Array(workerData.done);
let db, write;
try {
  db = new Database(workerData.path);
  // Per connection: without it every commit of this connection would fsync.
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_autocheckpoint = 0");
  write = batchWriter(db);
} catch (err) {
  parentPort.postMessage({ unavailable: String(err?.message ?? err) });
  process.exit(0);
}
parentPort.postMessage({ ready: true });
// Said once per failure, not every round while a disk stays full.
let checkpointFailing = false;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    checkpointFailing = false;
  } catch (err) {
    if (!checkpointFailing) parentPort.postMessage({ warn: "WAL checkpoint failed: " + (err?.message ?? err) });
    checkpointFailing = true;
  }
}, workerData.checkpointEveryMs);
parentPort.on("message", (m) => {
  if (m === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.close();
    return;
  }
  let error;
  try {
    write(m.batch);
  } catch (err) {
    error = String(err?.message ?? err);
  }
  // The message first: when a reader blocked on `done` wakes, the outcome is already queued.
  parentPort.postMessage({ done: m.seq, error });
  if (error) Atomics.add(done, 1, 1);
  Atomics.store(done, 0, m.seq);
  Atomics.notify(done, 0);
});
