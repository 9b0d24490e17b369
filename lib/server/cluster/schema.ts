/**
 * The tables several hub processes share (docs/scale-out.md): which hubs are alive, which hub
 * handed out which processIds, and cancels asked of a batch another hub runs. A migration step of the store's numbered migrations
 * (store/migrations.ts) in both dialects; `ensureClusterTables` runs it on a database that does
 * not have it yet.
 */
import type { Query } from "./query";

/** PostgreSQL. Times are epoch milliseconds from the hubs' clocks (they must agree within a few seconds). */
export const CLUSTER_TABLES_PG = `
  CREATE TABLE IF NOT EXISTS hubs (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    api_url      TEXT,
    claimed_by   TEXT
  );
  CREATE TABLE IF NOT EXISTS hub_blocks (
    first_id BIGINT PRIMARY KEY,
    hub_id   TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS batch_cancels (
    batch_id     TEXT PRIMARY KEY,
    requested_at BIGINT NOT NULL
  );
`;

/** SQLite, the same tables (one hub per file: they hold that hub alone). */
export const CLUSTER_TABLES_SQLITE = `
  CREATE TABLE IF NOT EXISTS hubs (
    id           TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    api_url      TEXT,
    claimed_by   TEXT
  );
  CREATE TABLE IF NOT EXISTS hub_blocks (
    first_id INTEGER PRIMARY KEY,
    hub_id   TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS batch_cancels (
    batch_id     TEXT PRIMARY KEY,
    requested_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** An arbitrary constant: hubs starting at once create the tables one after the other. */
const SCHEMA_LOCK = 0x72727063;

/** Creates the tables if missing, under an advisory lock (concurrent CREATE IF NOT EXISTS can collide in PostgreSQL). */
export async function ensureClusterTables(query: Query): Promise<void> {
  await query(`DO $$ BEGIN PERFORM pg_advisory_xact_lock(${SCHEMA_LOCK}); ${CLUSTER_TABLES_PG} END $$`);
}
