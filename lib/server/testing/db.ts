import { afterEach } from "vitest";
import { DomainError } from "../core/errors";
import { openSqlite } from "../store/open";
import type { Sql } from "../store/sql";

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** A migrated in-memory (or file) SQLite database behind the async seam, closed after the test. */
export function testDatabase(path = ":memory:"): Sql {
  const db = openSqlite(path);
  open.push(db);
  return db;
}

/** Closes `o` after the test. */
export function closeAfterTest<T extends { close(): unknown }>(o: T): T {
  open.push(o);
  return o;
}

/** The DomainError `fn` throws or rejects with; fails the test if it succeeds or fails otherwise. */
export async function domainErrorOf(fn: () => unknown): Promise<DomainError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("no error thrown");
}
