import { afterEach, describe, expect, it } from "vitest";
import { storeBackends } from "../testing/backends";
import { numberedParams, redactUrl, type Sql } from "./sql";
import { MIGRATIONS } from "./migrations";
import { PG_MIGRATIONS, migratePg } from "./pg-migrations";

describe("numberedParams", () => {
  it("numbers placeholders outside quotes only", () => {
    expect(numberedParams(`SELECT '?', "a?" FROM t WHERE a = ? AND b LIKE ? ESCAPE '\\'`)).toBe(
      `SELECT '?', "a?" FROM t WHERE a = $1 AND b LIKE $2 ESCAPE '\\'`,
    );
  });
  it("redacts a URL's password", () => {
    expect(redactUrl("postgres://hub:s3cret@db:5432/rrpc")).toBe("postgres://hub:***@db:5432/rrpc");
  });
});

describe.each(storeBackends())("SQL seam on $name", (backend) => {
  let sql: Sql | null = null;
  afterEach(async () => {
    await sql?.close();
    sql = null;
  });

  it("has the tables of every migration step, numbered alike", async () => {
    sql = await backend.open();
    expect(PG_MIGRATIONS.length).toBe(MIGRATIONS.length);
    const rows =
      sql.dialect === "sqlite"
        ? await sql.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        : await sql.all<{ name: string }>(
            `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version' ORDER BY 1`,
          );
    expect(rows.map((r) => r.name)).toEqual([
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
    const hubCols = await sql.all(`SELECT hub_id FROM calls UNION ALL SELECT hub_id FROM batches`);
    expect(hubCols).toEqual([]);
  });

  it("round-trips numbers beyond 32 bits, fractions, payloads and NULL", async () => {
    sql = await backend.open();
    const payload = Buffer.from([0, 1, 2, 255]);
    await sql.run(
      `INSERT INTO calls (process_id, product_id, device_name, source, status, request, reply, timeout_ms, started_at, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [2 ** 40, "P", "d", "api", "pending", payload, null, 4000, 1764464000123.5, "[]"],
    );
    const row = await sql.get<{ process_id: number; request: Buffer; reply: Buffer | null; started_at: number; n: number }>(
      `SELECT process_id, request, reply, started_at, (SELECT count(*) FROM calls) AS n FROM calls WHERE process_id = ?`,
      [2 ** 40],
    );
    expect(row).toEqual({ process_id: 2 ** 40, request: payload, reply: null, started_at: 1764464000123.5, n: 1 });
    expect(await sql.get(`SELECT * FROM calls WHERE process_id = ?`, [1])).toBeUndefined();
  });

  it("commits a transaction that resolves and rolls back one that throws", async () => {
    sql = await backend.open();
    await sql.tx(async (q) => {
      await q.run(`INSERT INTO meta (key, value) VALUES (?, ?)`, ["a", 1]);
      await q.run(`INSERT INTO meta (key, value) VALUES (?, ?)`, ["b", 2]);
    });
    await expect(
      sql.tx(async (q) => {
        await q.run(`INSERT INTO meta (key, value) VALUES (?, ?)`, ["c", 3]);
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(await sql.all(`SELECT key, value FROM meta ORDER BY key`)).toEqual([
      { key: "a", value: 1 },
      { key: "b", value: 2 },
    ]);
    expect((await sql.run(`UPDATE meta SET value = value + 1`)).changes).toBe(2);
  });

  it("keeps other statements out of an open transaction", async () => {
    sql = await backend.open();
    const s = sql;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = s.tx(async (q) => {
      await q.run(`INSERT INTO meta (key, value) VALUES (?, ?)`, ["in", 1]);
      await gate;
      throw new Error("rolled back");
    });
    const outside = s.run(`INSERT INTO meta (key, value) VALUES (?, ?)`, ["out", 2]);
    release();
    await expect(tx).rejects.toThrow("rolled back");
    await outside;
    expect(await s.all(`SELECT key FROM meta`)).toEqual([{ key: "out" }]);
  });

  // SQLite's one connection: a transaction must not start inside another (PostgreSQL gives each its own connection).
  it.skipIf(backend.name !== "sqlite")("runs transactions started together one after the other", async () => {
    sql = await backend.open();
    const s = sql;
    await s.run(`INSERT INTO meta (key, value) VALUES (?, ?)`, ["n", 0]);
    const bump = () =>
      s.tx(async (q) => {
        const { value } = (await q.get<{ value: number }>(`SELECT value FROM meta WHERE key = ?`, ["n"]))!;
        await q.run(`UPDATE meta SET value = ? WHERE key = ?`, [value + 1, "n"]);
      });
    await Promise.all([bump(), bump(), bump()]);
    expect(await s.get(`SELECT value FROM meta WHERE key = ?`, ["n"])).toEqual({ value: 3 });
  });

  it.skipIf(backend.name !== "postgres")("migrates once, also when two hubs start together", async () => {
    const url = await backend.location();
    const [a, b] = await Promise.all([backend.openAt(url), backend.openAt(url)]);
    expect(await migratePg(a)).toEqual({ from: PG_MIGRATIONS.length, to: PG_MIGRATIONS.length });
    await expect(migratePg(b, PG_MIGRATIONS.slice(0, 3))).rejects.toThrow(/newer than this hub's 3/);
    await a.close();
    await b.close();
  });
});
