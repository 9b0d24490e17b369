import type { Pool } from "pg";

/** One SQL statement with `$n` parameters, its rows. What the cluster needs of the shared database. */
export type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/** A Query on a pg pool. */
export function poolQuery(pool: Pool): Query {
  return async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[];
}
