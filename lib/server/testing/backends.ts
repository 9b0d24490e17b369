/**
 * The two store backends for conformance suites: `describe.each(storeBackends())` runs a suite
 * against SQLite and against a real PostgreSQL server (started once per test file, a new
 * database per `open()`). Without PostgreSQL the suite fails under CI and is skipped, loudly,
 * elsewhere.
 */
import { afterAll } from "vitest";
import { join } from "node:path";
import { openPostgres, openSqlite } from "../store/open";
import type { Sql } from "../store/sql";
import { SqliteCallStore, type CallStore } from "../store/call-store";
import { PgCallStore } from "../store/pg-store";
import { postgresBin, startPostgres, type Postgres } from "./postgres";
import { tempDir } from "./servers";

export type Backend = {
  name: "sqlite" | "postgres";
  /** A new, empty database at the current schema. */
  open(): Promise<Sql>;
  /** For PostgreSQL: the URL of a new, empty database (not yet migrated); for SQLite: a new file's path. */
  location(): Promise<string>;
  /** Another handle on the database at `location` (a second process, as far as the database can tell). */
  openAt(location: string): Promise<Sql>;
  /** The calls store on the database at `location` (a hub process); `hubId` is kept by PostgreSQL only. */
  openCalls(location: string, opts?: { hubId?: string }): Promise<CallStore>;
};

let server: Promise<Postgres> | null = null;
let registered = false;

function pgServer(): Promise<Postgres> {
  server ??= startPostgres();
  return server;
}

export function storeBackends(): Backend[] {
  const sqlite: Backend = {
    name: "sqlite",
    location: async () => join(tempDir(), "store.db"),
    openAt: async (path) => openSqlite(path),
    open: async () => openSqlite(join(tempDir(), "store.db")),
    openCalls: async (path) => SqliteCallStore.open(path),
  };
  if (!postgresBin() && !process.env.CI) {
    console.warn("PostgreSQL not installed (apt-get install postgresql): the PostgreSQL half of this suite is SKIPPED");
    return [sqlite];
  }
  if (!registered) {
    registered = true;
    afterAll(async () => {
      if (server) await (await server).stop();
      server = null;
    });
  }
  const postgres: Backend = {
    name: "postgres",
    location: async () => (await pgServer()).createDatabase(),
    openAt: (url) => openPostgres(url, { max: 4 }),
    open: async () => openPostgres(await (await pgServer()).createDatabase(), { max: 4 }),
    openCalls: async (url, opts = {}) => PgCallStore.open(await openPostgres(url, { max: 4 }), opts),
  };
  return [sqlite, postgres];
}
