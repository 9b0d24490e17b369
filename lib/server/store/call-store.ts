import type { CallRecord } from "../core/call";
import type { Sql } from "./sql";
import { Store, type CallFilter, type DeviceStats } from "./store";
import { SqliteSql } from "./sql";

export type { CallFilter, DeviceStats };

/**
 * Calls and their traces, as the hub and the routes see them, whichever database holds them
 * (docs/storage.md). The hot path is synchronous: processIds come from a block reserved ahead
 * of time, saves are queued and group-committed; `written` resolves once a call's state as last
 * saved is committed. Reads are asynchronous.
 */
export interface CallStore {
  /** The same database, for repositories that keep their own tables in it. */
  readonly sql: Sql;
  /** The hub process whose calls this store writes (calls.hub_id); null for a single hub. */
  readonly hubId: string | null;
  /** Why the store cannot write, while it cannot; null when it can. */
  readonly unavailable: string | null;
  allocateProcessId(): { processId: string; messageId: number };
  save(call: CallRecord): void;
  written(call: CallRecord): Promise<void>;
  get(messageId: number): Promise<CallRecord | null>;
  list(f: CallFilter): Promise<CallRecord[]>;
  page(f: CallFilter, maxBytes?: number): Promise<{ calls: CallRecord[]; more: boolean }>;
  count(f: Omit<CallFilter, "limit" | "before">): Promise<number>;
  deviceStats(): Promise<DeviceStats[]>;
  /** Deletes the oldest ended calls beyond the newest `keep`; returns how many went. */
  prune(keep: number): Promise<number>;
  /** This store's own calls left pending by an earlier run: ended `interrupted`. Run once at start. */
  interruptPending(now: number): Promise<number>;
  /** The calls still pending of another hub process (one that stopped): ended `interrupted`. */
  interruptPendingOf(hubId: string, at: number): Promise<number>;
  /** Writes everything saved and waits until it is committed. */
  flush(): Promise<void>;
  /** Starts writing everything saved, for process exit where nothing asynchronous completes; true if it is committed already. */
  flushNow(): boolean;
  close(): Promise<void>;
}

/** The SQLite store (store.ts, synchronous, with its writer thread) as a CallStore. */
export class SqliteCallStore implements CallStore {
  readonly sql: SqliteSql;
  readonly hubId = null;

  constructor(readonly store: Store) {
    this.sql = new SqliteSql(store.db);
  }

  static open(path: string, opts: { checkpointEveryMs?: number } = {}): SqliteCallStore {
    return new SqliteCallStore(new Store(path, opts));
  }

  get unavailable(): string | null {
    return this.store.unavailable;
  }
  allocateProcessId() {
    return this.store.allocateProcessId();
  }
  save(call: CallRecord): void {
    this.store.save(call);
  }
  written(call: CallRecord): Promise<void> {
    return this.store.written(call);
  }
  async get(messageId: number) {
    return this.store.get(messageId);
  }
  async list(f: CallFilter) {
    return this.store.list(f);
  }
  async page(f: CallFilter, maxBytes?: number) {
    return this.store.page(f, maxBytes);
  }
  async count(f: Omit<CallFilter, "limit" | "before">) {
    return this.store.count(f);
  }
  async deviceStats() {
    return this.store.deviceStats();
  }
  async prune(keep: number) {
    return this.store.prune(keep);
  }
  async interruptPending(now: number) {
    return this.store.interruptPending(now);
  }
  /** A SQLite file has one hub: no call belongs to another. */
  async interruptPendingOf(): Promise<number> {
    return 0;
  }
  async flush() {
    this.store.flush();
  }
  flushNow(): boolean {
    this.store.flush();
    return true;
  }
  async close() {
    this.store.close();
  }
}
