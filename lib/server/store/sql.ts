import type Database from "better-sqlite3";
import pg from "pg";

export type Dialect = "sqlite" | "postgres";
/** Arrays are for PostgreSQL only (`= ANY(?)`). */
export type Param = string | number | Buffer | Uint8Array | null | readonly number[];

/**
 * The one asynchronous seam between the repositories and their database: SQLite (the file the
 * hub makes by itself) or PostgreSQL (DATABASE_URL). Statements are written once with `?`
 * placeholders in SQL both understand; the few that differ branch on `dialect` (docs/storage.md).
 */
export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly Param[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  run(sql: string, params?: readonly Param[]): Promise<{ changes: number }>;
  /** Statements without parameters, separated by `;` (schema steps). */
  exec(sql: string): Promise<void>;
  /** `fn` in one transaction: committed if it resolves, rolled back if it throws. Nothing else runs on the connection meanwhile. */
  tx<T>(fn: (q: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * better-sqlite3 underneath: statements run synchronously and are cached. A transaction may
 * await between its statements, so while one is open every other statement waits for it
 * (they share the one connection and would otherwise land inside it).
 */
export class SqliteSql implements Sql {
  readonly dialect = "sqlite" as const;
  private readonly stmts = new Map<string, Database.Statement>();
  /** Settles when the open transaction ends; null when none is open. */
  private busy: Promise<unknown> | null = null;

  constructor(readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  // Direct forms: used by the transaction's own handle, and by the public ones once no transaction is open.
  private allNow<T>(sql: string, params: readonly Param[]): T[] {
    return this.prepare(sql).all(...params) as T[];
  }
  private getNow<T>(sql: string, params: readonly Param[]): T | undefined {
    return this.prepare(sql).get(...params) as T | undefined;
  }
  private runNow(sql: string, params: readonly Param[]): { changes: number } {
    return { changes: this.prepare(sql).run(...params).changes };
  }

  // Each waits in a loop with nothing awaited between its last check and its statement: a
  // transaction that starts meanwhile cannot take the connection first.
  async all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    while (this.busy) await this.busy.catch(() => {});
    return this.allNow<T>(sql, params);
  }
  async get<T>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    while (this.busy) await this.busy.catch(() => {});
    return this.getNow<T>(sql, params);
  }
  async run(sql: string, params: readonly Param[] = []): Promise<{ changes: number }> {
    while (this.busy) await this.busy.catch(() => {});
    return this.runNow(sql, params);
  }
  async exec(sql: string): Promise<void> {
    while (this.busy) await this.busy.catch(() => {});
    this.db.exec(sql);
  }

  async tx<T>(fn: (q: Sql) => Promise<T>): Promise<T> {
    while (this.busy) await this.busy.catch(() => {});
    const inner: Sql = {
      dialect: "sqlite",
      all: async (sql, params = []) => this.allNow(sql, params),
      get: async (sql, params = []) => this.getNow(sql, params),
      run: async (sql, params = []) => this.runNow(sql, params),
      exec: async (sql) => void this.db.exec(sql),
      tx: (f) => f(inner),
      close: async () => {},
    };
    const run = (async () => {
      this.db.exec("BEGIN");
      try {
        const out = await fn(inner);
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    })();
    this.busy = run;
    try {
      return await run;
    } finally {
      if (this.busy === run) this.busy = null;
    }
  }

  async close(): Promise<void> {
    while (this.busy) await this.busy.catch(() => {});
    if (this.db.open) this.db.close();
  }
}

/** `?` placeholders as PostgreSQL's `$1…$n`, leaving string literals and quoted names alone. */
export function numberedParams(sql: string): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "?") {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

const INT8 = 20;
const NUMERIC = 1700;
/** Integers beyond 2^53 stay strings rather than silently lose digits; every id and time the hub keeps is far below. */
const toNumber = (s: string) => {
  const n = Number(s);
  return Number.isSafeInteger(n) || !Number.isInteger(n) ? n : s;
};
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC ? toNumber : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

type Queryable = { query: (text: string, values?: unknown[]) => Promise<pg.QueryResult> };

function pgHandle(q: Queryable, translate: (sql: string) => string, tx: Sql["tx"], close: () => Promise<void>): Sql {
  const query = (sql: string, params: readonly Param[]) => q.query(translate(sql), params as unknown[]);
  return {
    dialect: "postgres",
    all: async <T>(sql: string, params: readonly Param[] = []) => (await query(sql, params)).rows as T[],
    get: async <T>(sql: string, params: readonly Param[] = []) => (await query(sql, params)).rows[0] as T | undefined,
    run: async (sql, params = []) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
    exec: async (sql) => void (await q.query(sql)),
    tx,
    close,
  };
}

/** A pool of connections to DATABASE_URL; BIGINT and NUMERIC come back as numbers, BYTEA as Buffer. */
export class PgSql implements Sql {
  readonly dialect = "postgres" as const;
  readonly pool: pg.Pool;
  private readonly translated = new Map<string, string>();
  private readonly handle: Sql;

  constructor(url: string, opts: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types: TYPES });
    // An idle connection the server dropped must not end the process; the next query reconnects.
    this.pool.on("error", () => {});
    this.handle = pgHandle(this.pool, this.translate, this.tx, () => this.pool.end());
  }

  private readonly translate = (sql: string) => {
    let t = this.translated.get(sql);
    if (t === undefined) this.translated.set(sql, (t = numberedParams(sql)));
    return t;
  };

  all<T>(sql: string, params?: readonly Param[]): Promise<T[]> {
    return this.handle.all<T>(sql, params);
  }
  get<T>(sql: string, params?: readonly Param[]): Promise<T | undefined> {
    return this.handle.get<T>(sql, params);
  }
  run(sql: string, params?: readonly Param[]): Promise<{ changes: number }> {
    return this.handle.run(sql, params);
  }
  exec(sql: string): Promise<void> {
    return this.handle.exec(sql);
  }

  readonly tx = async <T>(fn: (q: Sql) => Promise<T>): Promise<T> => {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query("BEGIN");
      const inner: Sql = pgHandle(
        client,
        this.translate,
        (f) => f(inner),
        async () => {},
      );
      try {
        const out = await fn(inner);
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => (broken = true));
        throw err;
      }
    } finally {
      client.release(broken);
    }
  };

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A URL's form for logs: its password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** A UNIQUE or PRIMARY KEY constraint refused the row (SQLite's code or PostgreSQL's SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}
