import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";

/** A random key kept in the database file (table secrets), made the first time it is asked for. */
export function storedKey(db: Database.Database, name: string, bytes = 32): Buffer {
  const get = db.prepare<[string], { value: Buffer }>(`SELECT value FROM secrets WHERE name = ?`);
  const found = get.get(name);
  if (found) return found.value;
  db.prepare(`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`).run(name, randomBytes(bytes));
  // Another process on the same file may have made it first: whichever is stored is the key.
  return get.get(name)!.value;
}
