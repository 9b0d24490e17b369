import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./migrations";

/**
 * The hub's SQLite file (made if missing), in WAL mode and at the current schema version.
 * Command-line tools pass `busyTimeoutMs` to wait for a running hub's writes rather than fail.
 */
export function openDatabase(path: string, opts: { busyTimeoutMs?: number } = {}): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  if (opts.busyTimeoutMs) db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
  migrate(db);
  return db;
}
