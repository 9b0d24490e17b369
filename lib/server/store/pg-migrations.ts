import { BUCKET_OF, MIGRATIONS, NOT_SUCCESS } from "./migrations";
import type { Sql } from "./sql";

/**
 * The PostgreSQL schema, numbered as the SQLite steps (migrations.ts): step N here makes what
 * step N makes there, in PostgreSQL's types (BIGINT for ids and epoch ms, DOUBLE PRECISION for
 * fractional times, BYTEA for payloads, CITEXT where SQLite says COLLATE NOCASE).
 * Never edit a step that has shipped; add one to both lists.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1
  `
  CREATE TABLE calls (
    process_id  BIGINT PRIMARY KEY,
    product_id  TEXT NOT NULL,
    device_name TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    request     BYTEA NOT NULL,
    reply       BYTEA,
    timeout_ms  BIGINT NOT NULL,
    started_at  DOUBLE PRECISION NOT NULL,
    ended_at    DOUBLE PRECISION,
    rtt_ms      DOUBLE PRECISION,
    events      TEXT NOT NULL
  );
  CREATE INDEX calls_by_device_bucket ON calls ((${BUCKET_OF}), product_id, device_name);
  CREATE INDEX calls_not_success ON calls (status, process_id) WHERE ${NOT_SUCCESS};
  CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
  CREATE TABLE devices (
    product_id  TEXT NOT NULL,
    device_name TEXT NOT NULL,
    secret      TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (product_id, device_name)
  );
  CREATE TABLE api_keys (
    secret_id    TEXT PRIMARY KEY,
    secret_key   TEXT NOT NULL,
    name         TEXT,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
  );
  `,
  // 2
  `
  CREATE TABLE call_events (
    process_id BIGINT NOT NULL,
    first      INTEGER NOT NULL,
    events     TEXT NOT NULL,
    PRIMARY KEY (process_id, first)
  );
  `,
  // 3
  `
  CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
  `,
  // 4
  `
  CREATE EXTENSION IF NOT EXISTS citext;
  ALTER TABLE calls ADD COLUMN batch_id TEXT;
  ALTER TABLE calls ADD COLUMN command_id TEXT;
  ALTER TABLE calls ADD COLUMN caller_kind TEXT;
  ALTER TABLE calls ADD COLUMN caller_id TEXT;
  ALTER TABLE calls ADD COLUMN caller_name TEXT;
  CREATE INDEX calls_by_batch ON calls (batch_id, process_id) WHERE batch_id IS NOT NULL;
  CREATE TABLE commands (
    id          TEXT PRIMARY KEY,
    name        CITEXT NOT NULL UNIQUE,
    description TEXT,
    product_id  TEXT,
    payload     TEXT NOT NULL,
    encoding    TEXT NOT NULL,
    params      TEXT NOT NULL,
    timeout_ms  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
  );
  CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL,
    total           INTEGER NOT NULL,
    payload         BYTEA NOT NULL,
    command_id      TEXT,
    params          TEXT,
    timeout_ms      BIGINT NOT NULL,
    concurrency     INTEGER NOT NULL,
    rate_per_second DOUBLE PRECISION,
    created_by      TEXT,
    retry_of        TEXT,
    started_at      DOUBLE PRECISION NOT NULL,
    ended_at        DOUBLE PRECISION,
    counts          TEXT
  );
  CREATE TABLE batch_targets (
    batch_id    TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    product_id  TEXT NOT NULL,
    device_name TEXT NOT NULL,
    status      TEXT NOT NULL,
    process_id  BIGINT,
    PRIMARY KEY (batch_id, idx)
  );
  `,
  // 5
  `
  CREATE TABLE products (
    product_id        TEXT PRIMARY KEY,
    max_request_bytes BIGINT,
    updated_at        BIGINT NOT NULL
  );
  `,
  // 6
  `
  CREATE TABLE users (
    name          CITEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_name  CITEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX sessions_by_user ON sessions (user_name);
  ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'operator' CHECK (role IN ('viewer', 'operator', 'admin'));
  UPDATE api_keys SET role = 'admin';
  `,
  // 7
  `
  ALTER TABLE calls ADD COLUMN hub_id TEXT;
  ALTER TABLE batches ADD COLUMN hub_id TEXT;
  CREATE INDEX calls_pending_by_hub ON calls (hub_id) WHERE status = 'pending';
  `,
  // 8: the hubs sharing this database (docs/scale-out.md, lib/server/cluster/). Times are epoch
  // milliseconds from the hubs' clocks (they must agree within a few seconds).
  `
  CREATE TABLE hubs (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    api_url      TEXT,
    claimed_by   TEXT
  );
  CREATE TABLE hub_blocks (
    first_id BIGINT PRIMARY KEY,
    hub_id   TEXT NOT NULL
  );
  CREATE TABLE batch_cancels (
    batch_id     TEXT PRIMARY KEY,
    requested_at BIGINT NOT NULL
  );
  `,
];

if (PG_MIGRATIONS.length !== MIGRATIONS.length) throw new Error("PG_MIGRATIONS and MIGRATIONS must have the same steps");

/** Any fixed number: hubs starting together on one database take turns to migrate it. */
const MIGRATION_LOCK = 0x72727063;

/** Runs the steps the database has not had (its version in table schema_version); refuses a database of a newer hub. */
export async function migratePg(sql: Sql, steps: readonly string[] = PG_MIGRATIONS): Promise<{ from: number; to: number }> {
  return sql.tx(async (q) => {
    await q.get(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await q.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
    const row = await q.get<{ version: number }>(`SELECT version FROM schema_version`);
    if (!row) await q.run(`INSERT INTO schema_version (version) VALUES (0)`);
    const from = row?.version ?? 0;
    if (from > steps.length) {
      throw new Error(`rrpc-hub: the database is at schema version ${from}, newer than this hub's ${steps.length}; upgrade the hub`);
    }
    // One transaction for all steps (PostgreSQL's DDL is transactional): a failed step leaves the version where it was.
    for (let v = from; v < steps.length; v++) {
      await q.exec(steps[v]!);
      await q.run(`UPDATE schema_version SET version = ?`, [v + 1]);
    }
    return { from, to: steps.length };
  });
}
