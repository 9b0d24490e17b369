// Plain JavaScript: shared by the store (TypeScript) and its writer thread (writer-thread.mjs),
// which runs as is, without a TypeScript loader.

/** What a packed row writes (writer.ts: packCalls): the whole row, the row's outcome, or only new events. */
export const ROW = 0;
export const OUTCOME = 1;
export const EVENTS = 2;

const UPSERT_SQL = `
  INSERT INTO calls (process_id, product_id, device_name, source, status, request, reply, timeout_ms, started_at, ended_at, rtt_ms, events, batch_id, command_id, caller_kind, caller_id, caller_name)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (process_id) DO UPDATE SET
    status = excluded.status, reply = excluded.reply, ended_at = excluded.ended_at,
    rtt_ms = excluded.rtt_ms, events = excluded.events`;
const OUTCOME_SQL = `UPDATE calls SET status = ?, reply = ?, ended_at = ?, rtt_ms = ? WHERE process_id = ?`;
// Events are placed by their index in the trace, so writing a chunk again changes nothing.
const CHUNK_SQL = `INSERT OR REPLACE INTO call_events (process_id, first, events) VALUES (?, ?, ?)`;

/**
 * A transaction that writes packed batches, all of them or none. Positional parameters: binding
 * by name was a measurable part of each write.
 * @param {import("better-sqlite3").Database} db
 * @returns {(batches: { rows: string; events: string; bytes: Uint8Array }[]) => void}
 */
export function batchWriter(db) {
  const upsert = db.prepare(UPSERT_SQL);
  const outcome = db.prepare(OUTCOME_SQL);
  const chunk = db.prepare(CHUNK_SQL);
  return db.transaction((batches) => {
    for (const { rows, events, bytes } of batches) writeBatch(rows, events, bytes);
  });

  function writeBatch(rows, eventTexts, bytes) {
    const at = (off, len) => (off < 0 ? null : Buffer.from(bytes.buffer, bytes.byteOffset + off, len));
    for (const r of JSON.parse(rows)) {
      const [
        kind,
        id,
        productId,
        deviceName,
        source,
        status,
        reqOff,
        reqLen,
        replyOff,
        replyLen,
        timeoutMs,
        startedAt,
        endedAt,
        rttMs,
        first,
        eventsOff,
        eventsLen,
        batchId,
        commandId,
        callerKind,
        callerId,
        callerName,
      ] = r;
      const reply = at(replyOff, replyLen);
      // "[]" for a row whose trace is empty: the column holds a JSON array.
      const events = eventsLen > 0 ? eventTexts.slice(eventsOff, eventsOff + eventsLen) : null;
      if (kind === ROW) {
        upsert.run(
          id,
          productId,
          deviceName,
          source,
          status,
          at(reqOff, reqLen),
          reply,
          timeoutMs,
          startedAt,
          endedAt,
          rttMs,
          events ?? "[]",
          batchId,
          commandId,
          callerKind,
          callerId,
          callerName,
        );
        continue;
      }
      if (kind === OUTCOME) outcome.run(status, reply, endedAt, rttMs, id);
      if (events !== null) chunk.run(id, first, events);
    }
  }
}
