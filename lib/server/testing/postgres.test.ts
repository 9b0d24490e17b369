import { afterAll, beforeAll, expect, test } from "vitest";
import { Client } from "pg";
import { startPostgres, type Postgres } from "./postgres";

let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());

test("a started server answers on its own port, and each database it creates is empty and separate", async () => {
  const [a, b] = [await pg.createDatabase(), await pg.createDatabase()];
  expect(a).not.toBe(b);
  const c = new Client({ connectionString: a });
  await c.connect();
  try {
    await c.query("CREATE TABLE t (x int)");
    const r = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
    expect(r.rows[0]?.n).toBe("1");
  } finally {
    await c.end();
  }
  const d = new Client({ connectionString: b });
  await d.connect();
  try {
    const r = await d.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
    expect(r.rows[0]?.n).toBe("0");
  } finally {
    await d.end();
  }
});
