import type Database from "better-sqlite3";
import { afterEach } from "vitest";
import { DomainError } from "../core/errors";
import { openDatabase } from "../store/database";

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

/** A migrated in-memory (or file) database, closed after the test. */
export function testDatabase(path = ":memory:"): Database.Database {
  const db = openDatabase(path);
  open.push(db);
  return db;
}

/** Closes `o` after the test. */
export function closeAfterTest<T extends { close(): void }>(o: T): T {
  open.push(o);
  return o;
}

/** The DomainError `fn` throws; fails the test if it throws nothing or something else. */
export function domainErrorOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("no error thrown");
}
