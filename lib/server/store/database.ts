import Database from "better-sqlite3";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./migrations";

/** Makes the folder one level at a time: a recursive mkdir under /proc never returns. */
function ensureDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    return;
  }
  const parent = dirname(dir);
  if (parent === dir) throw new Error(`${dir} does not exist`);
  ensureDir(parent);
  mkdirSync(dir);
}

/**
 * The hub's SQLite file (made if missing), in WAL mode and at the current schema version.
 * Command-line tools pass `busyTimeoutMs` to wait for a running hub's writes rather than fail.
 */
export function openDatabase(path: string, opts: { busyTimeoutMs?: number } = {}): Database.Database {
  let db: Database.Database | null = null;
  try {
    if (path !== ":memory:") {
      ensureDir(dirname(path));
      // SQLite would take an empty file for a new database: a truncated file would silently start over.
      if (existsSync(path) && statSync(path).size === 0) throw new Error("the file is empty (0 bytes); remove it to start a new database");
    }
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    if (opts.busyTimeoutMs) db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    const why = (err as Error).message.replace(/^rrpc-hub: /, "");
    throw new Error(`rrpc-hub: cannot open the database ${path} (RRPC_DB): ${why}`);
  }
}
