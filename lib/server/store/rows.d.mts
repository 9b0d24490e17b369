import type Database from "better-sqlite3";
export const ROW: 0;
export const OUTCOME: 1;
export const EVENTS: 2;
export function batchWriter(db: Database.Database): (batches: { rows: string; bytes: Uint8Array }[]) => void;
