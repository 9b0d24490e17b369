import { randomBytes } from "node:crypto";
import type { Sql } from "./sql";

/** A random key kept in the database (table secrets), made the first time it is asked for. */
export async function storedKey(sql: Sql, name: string, bytes = 32): Promise<Buffer> {
  const get = () => sql.get<{ value: Buffer }>(`SELECT value FROM secrets WHERE name = ?`, [name]);
  const found = await get();
  if (found) return found.value;
  await sql.run(`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, [name, randomBytes(bytes)]);
  // Another process on the same database may have made it first: whichever is stored is the key.
  return (await get())!.value;
}
