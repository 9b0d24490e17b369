// The store's writer thread (writer.ts): commits batches of calls on its own SQLite connection
// and checkpoints the WAL. Plain JavaScript so that the same file runs from the sources (tests,
// tsx) and next to the compiled server (dist/).
import Database from "better-sqlite3";
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
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
/** Batches and "stop", in the order posted. */
function handle(messages) {
  const batches = messages.filter((m) => m !== "stop");
  if (batches.length > 0) {
    let error;
    try {
      write(batches.map((m) => m.batch));
    } catch (err) {
      error = String(err?.message ?? err);
    }
    const last = batches.at(-1).seq;
    // The message first: when a reader blocked on `done` wakes, the outcome is already queued.
    parentPort.postMessage({ done: last, first: batches[0].seq, error });
    if (error) Atomics.add(done, 1, batches.length);
    Atomics.store(done, 0, last);
    Atomics.notify(done, 0);
  }
  if (messages.includes("stop")) {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
}

// Group commit: every batch already waiting is committed in the same transaction as this one.
parentPort.on("message", (m) => {
  const messages = [m];
  for (let next; (next = receiveMessageOnPort(parentPort));) messages.push(next.message);
  handle(messages);
});
