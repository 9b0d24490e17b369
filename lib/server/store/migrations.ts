import type Database from "better-sqlite3";

/** The device index is kept per block of this many consecutive processIds (see store.ts). */
export const DEVICE_BUCKET = 4096;
/** The device index's expression; queries repeat it verbatim so that SQLite uses the index. */
export const BUCKET_OF = `process_id / ${DEVICE_BUCKET}`;
/** The partial status index's condition; queries repeat it verbatim too. */
export const NOT_SUCCESS = "status <> 'success'";

/**
 * The schema of the SQLite file, one numbered step per change: step N brings `user_version`
 * from N-1 to N, in one transaction. Never edit a step that has shipped; add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: calls and their traces, the processId reservation, devices and API keys. Files made
  // before numbered migrations (user_version 0) already hold these tables, hence IF NOT EXISTS.
  `
  CREATE TABLE IF NOT EXISTS calls (
    process_id  INTEGER PRIMARY KEY,
    product_id  TEXT NOT NULL,
    device_name TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    request     BLOB NOT NULL,
    reply       BLOB,
    timeout_ms  INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    ended_at    REAL,
    rtt_ms      REAL,
    events      TEXT NOT NULL
  );
  DROP INDEX IF EXISTS calls_by_device;
  CREATE INDEX IF NOT EXISTS calls_by_device_bucket ON calls (${BUCKET_OF}, product_id, device_name);
  DROP INDEX IF EXISTS calls_by_status;
  CREATE INDEX IF NOT EXISTS calls_not_success ON calls (status, process_id) WHERE ${NOT_SUCCESS};
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS devices (
    product_id  TEXT NOT NULL,
    device_name TEXT NOT NULL,
    secret      TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (product_id, device_name)
  );
  CREATE TABLE IF NOT EXISTS api_keys (
    secret_id    TEXT PRIMARY KEY,
    secret_key   TEXT NOT NULL,
    name         TEXT,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
  );
  `,
  // 2: events that reach a call after its row was first written are appended here, a chunk per
  // write, instead of rewriting the row (a reply flood rewrote a call's whole trace, and its
  // reply, once per batch). `first` is the index of the chunk's first event in the trace.
  `
  CREATE TABLE call_events (
    process_id INTEGER NOT NULL,
    first      INTEGER NOT NULL,
    events     TEXT NOT NULL,
    PRIMARY KEY (process_id, first)
  ) WITHOUT ROWID;
  `,
  // 3: keys that must outlive a restart (the operator sessions' signing key).
  `
  CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
  `,
  // 4: saved commands, batches (calls to many devices) and each batch's targets; a call made by
  // a command or a batch says which, and every call who made it.
  `
  ALTER TABLE calls ADD COLUMN batch_id TEXT;
  ALTER TABLE calls ADD COLUMN command_id TEXT;
  ALTER TABLE calls ADD COLUMN caller_kind TEXT;
  ALTER TABLE calls ADD COLUMN caller_id TEXT;
  ALTER TABLE calls ADD COLUMN caller_name TEXT;
  CREATE INDEX calls_by_batch ON calls (batch_id, process_id) WHERE batch_id IS NOT NULL;
  CREATE TABLE commands (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT,
    product_id  TEXT,
    payload     TEXT NOT NULL,
    encoding    TEXT NOT NULL,
    params      TEXT NOT NULL,
    timeout_ms  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL,
    total           INTEGER NOT NULL,
    payload         BLOB NOT NULL,
    command_id      TEXT,
    params          TEXT,
    timeout_ms      INTEGER NOT NULL,
    concurrency     INTEGER NOT NULL,
    rate_per_second REAL,
    created_by      TEXT,
    retry_of        TEXT,
    started_at      REAL NOT NULL,
    ended_at        REAL,
    counts          TEXT
  );
  CREATE TABLE batch_targets (
    batch_id    TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    product_id  TEXT NOT NULL,
    device_name TEXT NOT NULL,
    status      TEXT NOT NULL,
    process_id  INTEGER,
    PRIMARY KEY (batch_id, idx)
  ) WITHOUT ROWID;
  `,
  // 5: per-product settings: a request-size limit below RRPC_MAX_PAYLOAD for devices with small
  // receive buffers (NULL: only RRPC_MAX_PAYLOAD applies). A product may have settings before
  // it has devices.
  `
  CREATE TABLE products (
    product_id        TEXT PRIMARY KEY,
    max_request_bytes INTEGER,
    updated_at        INTEGER NOT NULL
  );
  `,
  // 6: team accounts (users with a role), operator sessions that sign-out revokes, and a role
  // per API key. Keys made before roles existed could do everything: they stay admin; new keys
  // default to operator.
  `
  CREATE TABLE users (
    name          TEXT PRIMARY KEY COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL COLLATE NOCASE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_user ON sessions (user_name);
  ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'operator' CHECK (role IN ('viewer', 'operator', 'admin'));
  UPDATE api_keys SET role = 'admin';
  `,
  // 7: several hubs on one PostgreSQL database (docs/storage.md): the hub process that owns a
  // call or runs a batch, so that a hub that stops ends only its own. NULL for a single hub.
  `
  ALTER TABLE calls ADD COLUMN hub_id TEXT;
  ALTER TABLE batches ADD COLUMN hub_id TEXT;
  `,
  // 8: the hubs sharing one database (docs/scale-out.md, lib/server/cluster/): which are alive,
  // which handed out which processIds, and cancels asked of a batch another hub runs. A SQLite
  // file has one hub, so here they stay empty; the step keeps both dialects' numbers alike.
  `
  CREATE TABLE hubs (
    id           TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    api_url      TEXT,
    claimed_by   TEXT
  );
  CREATE TABLE hub_blocks (
    first_id INTEGER PRIMARY KEY,
    hub_id   TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE batch_cancels (
    batch_id     TEXT PRIMARY KEY,
    requested_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Runs the steps the file has not had; refuses a file written by a newer hub. */
export function migrate(db: Database.Database, steps: readonly string[] = MIGRATIONS): { from: number; to: number } {
  const from = db.pragma("user_version", { simple: true }) as number;
  if (from > steps.length) {
    throw new Error(`rrpc-hub: the database is at schema version ${from}, newer than this hub's ${steps.length}; upgrade the hub`);
  }
  for (let v = from; v < steps.length; v++) {
    db.transaction(() => {
      db.exec(steps[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from, to: steps.length };
}
