import { openDatabase } from "./database";
import { migratePg } from "./pg-migrations";
import { PgSql, SqliteSql, redactUrl, type Sql } from "./sql";

/** A PostgreSQL database at the current schema version (DATABASE_URL); the URL's password never appears in the error. */
export async function openPostgres(url: string, opts: { max?: number } = {}): Promise<PgSql> {
  const sql = new PgSql(url, opts);
  try {
    await migratePg(sql);
    return sql;
  } catch (err) {
    await sql.close().catch(() => {});
    const why = (err as Error).message.replaceAll(url, redactUrl(url)).replace(/^rrpc-hub: /, "");
    throw new Error(`rrpc-hub: cannot open the database ${redactUrl(url)} (DATABASE_URL): ${why}`);
  }
}

/** The SQLite file (RRPC_DB) behind the async seam, at the current schema version. */
export function openSqlite(path: string, opts: { busyTimeoutMs?: number } = {}): SqliteSql {
  return new SqliteSql(openDatabase(path, opts));
}

/**
 * The hub's database for a command-line tool beside a running hub: DATABASE_URL if set, else
 * the SQLite file RRPC_DB, waiting for the hub's writes rather than failing.
 */
export async function openHubDatabase(env: NodeJS.ProcessEnv = process.env): Promise<{ sql: Sql; where: string }> {
  if (env.DATABASE_URL) return { sql: await openPostgres(env.DATABASE_URL, { max: 2 }), where: redactUrl(env.DATABASE_URL) };
  const path = env.RRPC_DB || "./data/rrpc.db";
  return { sql: openSqlite(path, { busyTimeoutMs: 5000 }), where: path };
}

export type { Sql };
