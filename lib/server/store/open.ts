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
export function openSqlite(path: string): SqliteSql {
  return new SqliteSql(openDatabase(path));
}

export type { Sql };
