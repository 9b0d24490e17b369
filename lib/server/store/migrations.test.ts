import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { join } from "node:path";
import { tempDir } from "../testing/servers";
import { openDatabase } from "./database";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "./migrations";
import { Store } from "./store";

const version = (db: Database.Database) => db.pragma("user_version", { simple: true }) as number;
const tables = (db: Database.Database) =>
  db
    .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
    .all()
    .map((r) => r.name);

describe("schema migrations", () => {
  it("bring a new file to the current version, once", () => {
    const db = new Database(":memory:");
    expect(migrate(db)).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(version(db)).toBe(MIGRATIONS.length);
    expect(tables(db)).toEqual([
      "api_keys",
      "batch_cancels",
      "batch_targets",
      "batches",
      "call_events",
      "calls",
      "commands",
      "devices",
      "hub_blocks",
      "hubs",
      "meta",
      "products",
      "secrets",
      "sessions",
      "users",
    ]);
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();
  });

  it("adopt a file written before numbered migrations, keeping its rows", () => {
    const path = join(tempDir(), "old.db");
    const old = new Database(path);
    // The tables as the hub made them before PRAGMA user_version was used.
    old.exec(`
      CREATE TABLE calls (process_id INTEGER PRIMARY KEY, product_id TEXT NOT NULL, device_name TEXT NOT NULL, source TEXT NOT NULL,
        status TEXT NOT NULL, request BLOB NOT NULL, reply BLOB, timeout_ms INTEGER NOT NULL, started_at REAL NOT NULL,
        ended_at REAL, rtt_ms REAL, events TEXT NOT NULL);
      CREATE INDEX calls_by_device ON calls (product_id, device_name, process_id);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE devices (product_id TEXT NOT NULL, device_name TEXT NOT NULL, secret TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL, PRIMARY KEY (product_id, device_name));
      INSERT INTO calls VALUES (1000000007, 'P', 'd', 'api', 'success', x'00', NULL, 4000, 1, 2, 1, '[]');
      INSERT INTO meta VALUES ('reserved_process_id', 1000001000);
    `);
    old.close();
    const store = new Store(path);
    try {
      expect(version(store.db)).toBe(SCHEMA_VERSION);
      expect(store.get(1000000007)?.status).toBe("success");
      expect(store.allocateProcessId().messageId).toBe(1000001000);
      const indexes = store.db.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls'`).all();
      expect(indexes.map((i) => i.name).sort()).toEqual(["calls_by_batch", "calls_by_device_bucket", "calls_not_success"]);
    } finally {
      store.close();
    }
  });

  it("refuse a file from a newer hub, changing nothing", () => {
    const path = join(tempDir(), "newer.db");
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(path)).toThrow(`the database is at schema version ${SCHEMA_VERSION + 1}, newer than this hub's ${SCHEMA_VERSION}`);
    const after = new Database(path);
    expect(tables(after)).toEqual([]);
    after.close();
  });

  it("roll a failed step back whole", () => {
    const db = new Database(":memory:");
    migrate(db);
    expect(() => migrate(db, [...MIGRATIONS, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;"])).toThrow(/syntax error/);
    expect(version(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).not.toContain("half");
    db.close();
  });
});
