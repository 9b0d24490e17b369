import { randomBytes } from "node:crypto";
import {
  MAX_BATCH_TARGETS,
  zeroCounts,
  type BatchCounts,
  type BatchJson,
  type BatchTarget,
  type BatchTargetStatus,
  type BatchTargetsPage,
} from "../../rrpc/batch";
import type { CreateBatchInput } from "../../rrpc/schemas";
import { checkDevice, checkProductId, type FieldError } from "../../rrpc/topics";
import { base64ToBytes, utf8Bytes } from "../../rrpc/payload";
import { TERMINAL_STATUSES, timeoutInRange, type CallEventType } from "../../rrpc/types";
import { clock as systemClock, type CallRecord, type Clock } from "../core/call";
import { DomainError, invalidInput } from "../core/errors";
import { log } from "../core/log";
import type { CallRequest, CallUpdate } from "../calls/hub";
import { checkPayloadSize, timeoutOutOfRange } from "../calls/hub";
import type { CommandRegistry } from "../commands/commands";
import { BatchLedger, batchToJson, type BatchRow, type TargetUpdate } from "./ledger";
import type { Sql } from "../store/sql";

/** What a batch needs of the hub. */
export type BatchHub = {
  call(req: CallRequest): Promise<CallRecord>;
  readonly inFlight: number;
  readonly maxInFlight: number;
  onUpdate(listener: (u: CallUpdate) => void): void;
};

export type BatchesOptions = {
  /** Several hubs: asks the hub that runs a batch to cancel it (cluster/cluster.ts). */
  cancelElsewhere?: (batchId: string) => Promise<void>;
  sql: Sql;
  /** The hub process running these batches (batches.hub_id); null for a single hub. */
  hubId?: string | null;
  hub: BatchHub;
  commands: CommandRegistry;
  /** Registered devices of a product. */
  devicesOf: (productId: string) => Promise<{ productId: string; deviceName: string }[]>;
  /** Devices connected now; null when the hub cannot know (an external broker). */
  online: () => { productId: string; deviceName: string }[] | null;
  maxPayloadBytes: number;
  /** A product's request-size limit (as the hub's): a batch whose payload passes it is refused at start. */
  productLimit?: (productId: string) => number | null;
  defaultTimeoutMs: number;
  clock?: Clock;
};

type Target = { productId: string; deviceName: string };

/** A batch this process is running. */
type Running = {
  row: BatchRow;
  targets: Target[];
  payload: Uint8Array;
  /** Per target: 1 once it has its outcome. */
  ended: Uint8Array;
  next: number;
  active: number;
  counts: BatchCounts;
  unsent: number;
  cancelling: boolean;
  /** Its end is being written (end()); it is still listed as running until then. */
  ending: boolean;
  /** Rate limit: calls that may start now (token bucket), refilled since `refilledAt`. */
  tokens: number;
  refilledAt: number;
  /** Set while the batch waits for its next turn or, with a rate, for its next token. */
  timer: { kind: "turn"; handle: NodeJS.Immediate } | { kind: "rate"; handle: unknown } | null;
  waiters: ((b: BatchJson) => void)[];
};

/** Calls started per turn of the event loop, so that HTTP and MQTT are served meanwhile. */
const LAUNCH_PER_TURN = 500;
/** Target outcomes are written at least this often (and at a batch's end, and before reads). */
const WRITE_EVERY_MS = 100;
const WRITE_AT = 5000;
const TERMINAL_EVENTS: ReadonlySet<CallEventType> = new Set(TERMINAL_STATUSES);

export function batchNotFound(id: string): DomainError {
  return new DomainError("batch_not_found", `no batch with id ${id}`);
}

/**
 * Calls to many devices (README, "Batches"). Each target gets exactly one call and ends with
 * exactly one status, counted once and written to the ledger. A batch never makes the hub
 * answer `busy`: it starts a call only while the hub has room, leaving a tenth of
 * RRPC_MAX_IN_FLIGHT to other callers, and waits for calls to end otherwise.
 */
export class Batches {
  private readonly ledger: BatchLedger;
  private readonly clock: Clock;
  private readonly running = new Map<string, Running>();
  private updates: TargetUpdate[] = [];
  /** Writes of outcomes, one after the other; settles once every outcome taken so far is written (or kept for a retry). */
  private writing: Promise<void> = Promise.resolve();
  private writeTimer: NodeJS.Timeout | null = null;
  private wakeScheduled = false;
  private readonly listeners: ((batchId: string) => void)[] = [];
  private readonly endListeners: ((b: BatchJson) => void)[] = [];
  private stopped = false;

  constructor(private readonly opts: BatchesOptions) {
    this.ledger = new BatchLedger(opts.sql, opts.hubId ?? null);
    this.clock = opts.clock ?? systemClock;
    // Another caller's call that ends frees room a waiting batch may use.
    opts.hub.onUpdate(({ event }) => {
      if (this.running.size > 0 && TERMINAL_EVENTS.has(event.type) && !this.wakeScheduled) {
        this.wakeScheduled = true;
        setImmediate(() => {
          this.wakeScheduled = false;
          for (const b of this.running.values()) this.pump(b);
        });
      }
    });
  }

  /** Told each time a batch's counts or status change (the live feed collapses them). */
  onChange(listener: (batchId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Told once when a batch ends, with its final state. */
  onEnd(listener: (b: BatchJson) => void): void {
    this.endListeners.push(listener);
  }

  /** Ends what a previous run left running (at start, after the store ended its calls in flight). */
  recover(): Promise<string[]> {
    return this.ledger.recover(this.clock.epoch(this.clock.now()));
  }

  /** Ends the batches another hub process (one that stopped) left running, as recover() does for this one's. */
  recoverOf(hubId: string): Promise<string[]> {
    return this.ledger.recoverOf(hubId, this.clock.epoch(this.clock.now()));
  }

  async start(input: CreateBatchInput, createdBy?: string): Promise<BatchJson> {
    const targets = await this.resolveTargets(input.targets);
    let payload: Uint8Array;
    let commandId: string | null = null;
    let params: string | null = null;
    let timeoutMs = input.timeoutMs;
    if (input.commandId !== undefined) {
      const cmd = await this.opts.commands.prepare(input.commandId, input.params ?? {});
      const product = cmd.productId;
      const other = product === undefined ? -1 : targets.findIndex((t) => t.productId !== product);
      if (other >= 0)
        throw invalidInput([
          { field: "targets", message: `the command is for product ${product}; ${targets[other]!.productId}/${targets[other]!.deviceName} is not` },
        ]);
      payload = cmd.payload;
      commandId = cmd.commandId;
      params = JSON.stringify(cmd.params);
      timeoutMs ??= cmd.timeoutMs;
    } else {
      payload = input.encoding === "base64" ? base64ToBytes(input.payload!) : utf8Bytes(input.payload!);
    }
    return this.launch({
      targets,
      payload,
      commandId,
      params,
      timeoutMs,
      concurrency: input.concurrency,
      ratePerSecond: input.ratePerSecond,
      createdBy,
      retryOf: null,
    });
  }

  /** A new batch over the targets of `id` that did not succeed. */
  async retry(id: string, settings: { timeoutMs?: number; concurrency?: number; ratePerSecond?: number }, createdBy?: string): Promise<BatchJson> {
    const row = await this.row(id);
    if (row.status === "running") throw new DomainError("batch_conflict", `batch ${id} is still running; cancel it or wait for its end`);
    await this.flushUpdates();
    const targets = await this.ledger.notSucceeded(id);
    if (targets.length === 0) throw new DomainError("batch_conflict", `every target of batch ${id} succeeded: nothing to retry`);
    return this.launch({
      targets,
      payload: row.payload,
      commandId: row.command_id,
      params: row.params,
      timeoutMs: settings.timeoutMs ?? row.timeout_ms,
      concurrency: settings.concurrency ?? row.concurrency,
      ratePerSecond: settings.ratePerSecond ?? row.rate_per_second ?? undefined,
      createdBy,
      retryOf: id,
    });
  }

  /** Stops sending: targets not yet sent end `cancelled`; calls in flight run to their outcome. */
  async cancel(id: string): Promise<BatchJson> {
    const b = this.running.get(id);
    if (!b) {
      const row = await this.row(id);
      // Another hub on the same database runs it: that hub cancels it (docs/scale-out.md).
      if (row.status === "running" && this.opts.cancelElsewhere) {
        await this.opts.cancelElsewhere(id);
        return batchToJson(row);
      }
      throw new DomainError("batch_conflict", `batch ${id} has already ended`);
    }
    if (!b.cancelling) {
      b.cancelling = true;
      const from = b.next;
      const cancelled = b.targets.length - b.next;
      for (let i = b.next; i < b.targets.length; i++) b.ended[i] = 1;
      b.counts.pending -= cancelled;
      b.counts.cancelled += cancelled;
      b.unsent += cancelled;
      b.next = b.targets.length;
      this.changed(b);
      await this.flushUpdates();
      await this.ledger.cancelFrom(id, from);
      if (b.active === 0) await this.end(b, "cancelled");
    }
    return this.get(id);
  }

  /** The batches this process runs. */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** A running batch as this process counts it (null when it does not run it). */
  private live(id: string): BatchJson | null {
    const b = this.running.get(id);
    return b ? batchToJson(b.row, { counts: { ...b.counts }, unsent: b.unsent }) : null;
  }

  async get(id: string): Promise<BatchJson> {
    return this.live(id) ?? this.stored(await this.row(id));
  }

  async list(limit = 100): Promise<BatchJson[]> {
    return Promise.all((await this.ledger.list(limit)).map((r) => this.live(r.id) ?? this.stored(r)));
  }

  /**
   * A batch this process does not run: its counts as recorded at its end, or, while another hub
   * runs it (several hubs on one database), counted from its targets, which that hub writes every
   * WRITE_EVERY_MS.
   */
  private async stored(row: BatchRow): Promise<BatchJson> {
    return row.status === "running" ? batchToJson(row, await this.ledger.countsOf(row.id)) : batchToJson(row);
  }

  async targets(id: string, q: { status?: BatchTargetStatus; after: number; limit: number }): Promise<BatchTargetsPage> {
    await this.row(id);
    await this.flushUpdates();
    const targets = await this.ledger.targets(id, q);
    return { targets, nextAfter: targets.length === q.limit ? targets.at(-1)!.index : null };
  }

  async allTargets(id: string): Promise<AsyncGenerator<BatchTarget>> {
    await this.row(id);
    await this.flushUpdates();
    return this.ledger.allTargets(id);
  }

  /** The batch once it has ended, or as it is after `ms`. */
  whenEnded(id: string, ms: number): Promise<BatchJson> {
    const b = this.running.get(id);
    if (!b) return this.get(id);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => void this.get(id).then(resolve, reject), ms);
      b.waiters.push((j) => (clearTimeout(t), resolve(j)));
    });
  }

  /**
   * The hub is stopping: every running batch ends `interrupted`; a target sent takes its call's
   * outcome, one not sent ends `interrupted`. Synchronous, for process exit; run once the hub
   * has ended its calls in flight and the store has written them.
   */
  async interruptAll(): Promise<number> {
    this.stopped = true;
    const all = [...this.running.values()];
    for (const b of all) this.clearTimer(b);
    await this.flushUpdates();
    for (const b of all) {
      if (!this.running.has(b.row.id)) continue;
      const now = this.clock.epoch(this.clock.now());
      const { counts, unsent } = await this.ledger.close(b.row.id, now);
      b.counts = counts;
      b.unsent = unsent;
      this.ended(b, "interrupted", now);
    }
    return all.length;
  }

  private async row(id: string): Promise<BatchRow> {
    const row = this.running.get(id)?.row ?? (await this.ledger.get(id));
    if (!row) throw batchNotFound(id);
    return row;
  }

  private async resolveTargets(t: CreateBatchInput["targets"]): Promise<Target[]> {
    if ("devices" in t) {
      if (t.devices.length > MAX_BATCH_TARGETS) throw tooMany(t.devices.length);
      const fields: FieldError[] = [];
      const seen = new Set<string>();
      const out: Target[] = [];
      t.devices.forEach((d, i) => {
        for (const f of checkDevice(d.productId, d.deviceName))
          if (fields.length < 20) fields.push({ ...f, field: `targets.devices.${i}.${f.field}` });
        const key = `${d.productId}\0${d.deviceName}`;
        if (seen.has(key)) return;
        seen.add(key);
        out.push({ productId: d.productId, deviceName: d.deviceName });
      });
      if (fields.length > 0) throw invalidInput(fields);
      return out;
    }
    const bad = checkProductId(t.productId);
    if (bad) throw invalidInput([{ ...bad, field: "targets.productId" }]);
    let devices = await this.opts.devicesOf(t.productId);
    if (t.onlineOnly) {
      const online = this.opts.online();
      if (!online) throw invalidInput([{ field: "targets.onlineOnly", message: "which devices are online is not known with an external broker" }]);
      const on = new Set(online.map((d) => `${d.productId}\0${d.deviceName}`));
      devices = devices.filter((d) => on.has(`${d.productId}\0${d.deviceName}`));
    }
    if (devices.length === 0) {
      throw invalidInput([{ field: "targets.productId", message: `no ${t.onlineOnly ? "online " : ""}registered device of product ${t.productId}` }]);
    }
    if (devices.length > MAX_BATCH_TARGETS) throw tooMany(devices.length);
    return devices;
  }

  private async launch(s: {
    targets: Target[];
    payload: Uint8Array;
    commandId: string | null;
    params: string | null;
    timeoutMs: number | undefined;
    concurrency: number;
    ratePerSecond: number | undefined;
    createdBy: string | undefined;
    retryOf: string | null;
  }): Promise<BatchJson> {
    if (this.stopped) throw new DomainError("batch_conflict", "the hub is stopping");
    // Refused at start rather than failing every target: the global limit, then each product's.
    const products = new Set<string>();
    for (const t of s.targets) products.add(t.productId);
    for (const p of products) checkPayloadSize(p, s.payload.byteLength, this.opts.maxPayloadBytes, this.opts.productLimit?.(p));
    const timeoutMs = s.timeoutMs ?? this.opts.defaultTimeoutMs;
    if (!timeoutInRange(timeoutMs)) throw invalidInput([timeoutOutOfRange()]);
    const now = this.clock.now();
    const row: BatchRow = {
      id: "b_" + randomBytes(8).toString("hex"),
      status: "running",
      total: s.targets.length,
      payload: Buffer.from(s.payload),
      command_id: s.commandId,
      params: s.params,
      timeout_ms: timeoutMs,
      concurrency: s.concurrency,
      rate_per_second: s.ratePerSecond ?? null,
      created_by: s.createdBy ?? null,
      retry_of: s.retryOf,
      started_at: this.clock.epoch(now),
      ended_at: null,
      counts: null,
    };
    await this.ledger.insertBatch(row, s.targets);
    if (this.stopped) throw new DomainError("batch_conflict", "the hub is stopping");
    const counts = zeroCounts();
    counts.pending = s.targets.length;
    const b: Running = {
      row,
      targets: s.targets,
      payload: s.payload,
      ended: new Uint8Array(s.targets.length),
      next: 0,
      active: 0,
      counts,
      unsent: 0,
      cancelling: false,
      ending: false,
      tokens: 1,
      refilledAt: now,
      timer: null,
      waiters: [],
    };
    this.running.set(row.id, b);
    log.info("batch started", { batchId: row.id, targets: s.targets.length, commandId: s.commandId ?? undefined, retryOf: s.retryOf ?? undefined });
    this.changed(b);
    setImmediate(() => this.pump(b));
    return this.live(row.id)!;
  }

  /** Starts calls while the batch may: its concurrency, the hub's room, its rate. */
  private pump(b: Running): void {
    if (b.row.status !== "running" || b.timer !== null) return;
    const room = () => this.opts.hub.inFlight < this.hubLimit();
    const rate = b.row.rate_per_second;
    for (let launched = 0; b.next < b.targets.length && !b.cancelling && b.active < b.row.concurrency && room(); launched++) {
      if (launched === LAUNCH_PER_TURN) {
        b.timer = { kind: "turn", handle: setImmediate(() => ((b.timer = null), this.pump(b))) };
        return;
      }
      if (rate !== null) {
        const now = this.clock.now();
        b.tokens = Math.min(Math.max(1, rate), b.tokens + ((now - b.refilledAt) * rate) / 1000);
        b.refilledAt = now;
        if (b.tokens < 1) {
          const wait = Math.ceil(((1 - b.tokens) * 1000) / rate);
          b.timer = { kind: "rate", handle: this.clock.setTimer(() => ((b.timer = null), this.pump(b)), wait) };
          return;
        }
        b.tokens--;
      }
      this.send(b, b.next++);
    }
  }

  private send(b: Running, i: number): void {
    const t = b.targets[i]!;
    b.active++;
    const req: CallRequest = {
      productId: t.productId,
      deviceName: t.deviceName,
      payload: b.payload,
      timeoutMs: b.row.timeout_ms,
      source: "batch",
      batchId: b.row.id,
      caller: { kind: "batch", id: b.row.id, name: b.row.created_by ?? "local" },
    };
    if (b.row.command_id !== null) req.commandId = b.row.command_id;
    this.opts.hub.call(req).then(
      (call) => this.finish(b, i, call.status as BatchTargetStatus, call.messageId),
      (err: unknown) => this.finish(b, i, refusal(err), null),
    );
  }

  private finish(b: Running, i: number, status: BatchTargetStatus, processId: number | null): void {
    // After interruptAll the ledger has this outcome from the call itself.
    if (b.ended[i] || b.row.status !== "running") return;
    b.ended[i] = 1;
    b.active--;
    b.counts.pending--;
    b.counts[status]++;
    this.updates.push([status, processId, b.row.id, i]);
    if (this.updates.length >= WRITE_AT) void this.flushUpdates();
    else this.writeTimer ??= setTimeout(() => void this.flushUpdates(), WRITE_EVERY_MS);
    this.changed(b);
    if (b.active === 0 && (b.cancelling || b.next >= b.targets.length)) {
      // A cancel() under way ends the batch itself once its targets are written.
      if (!b.cancelling || b.next >= b.targets.length) void this.end(b, b.cancelling ? "cancelled" : "done");
    } else this.pump(b);
  }

  private async end(b: Running, status: "done" | "cancelled"): Promise<void> {
    if (b.row.status !== "running" || b.ending) return;
    b.ending = true;
    this.clearTimer(b);
    const endedAt = this.clock.epoch(this.clock.now());
    await this.flushUpdates();
    // interruptAll() may have closed it meanwhile.
    if (!this.running.has(b.row.id)) return;
    try {
      await this.ledger.end(b.row.id, status, endedAt, b.counts, b.unsent);
    } catch (err) {
      log.error("batch end not recorded; the next start closes it from its calls", { batchId: b.row.id, error: (err as Error).message });
    }
    this.ended(b, status, endedAt);
  }

  private ended(b: Running, status: BatchJson["status"], endedAt: number): void {
    if (!this.running.has(b.row.id)) return;
    b.row = { ...b.row, status, ended_at: endedAt, counts: JSON.stringify({ ...b.counts, unsent: b.unsent }) };
    this.running.delete(b.row.id);
    log.info("batch ended", { batchId: b.row.id, status, success: b.counts.success, total: b.row.total });
    const json = batchToJson(b.row);
    for (const w of b.waiters) w(json);
    for (const l of this.endListeners) l(json);
    this.changed(b);
  }

  /** Writes the outcomes taken so far, after those already being written. */
  private flushUpdates(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    if (this.updates.length === 0) return this.writing;
    const updates = this.updates;
    this.updates = [];
    this.writing = this.writing
      .then(() => this.ledger.writeUpdates(updates))
      .catch((err: Error) => {
        // Kept for the next write; a restart would take the outcomes from the calls.
        this.updates = updates.concat(this.updates);
        log.warn("batch outcomes not written yet", { pending: this.updates.length, error: err.message });
        this.writeTimer ??= setTimeout(() => void this.flushUpdates(), 1000);
        this.writeTimer.unref();
      });
    return this.writing;
  }

  private clearTimer(b: Running): void {
    if (b.timer === null) return;
    if (b.timer.kind === "turn") clearImmediate(b.timer.handle);
    else this.clock.clearTimer(b.timer.handle);
    b.timer = null;
  }

  private hubLimit(): number {
    const max = this.opts.hub.maxInFlight;
    return Math.max(1, max - Math.floor(max / 10));
  }

  private changed(b: Running): void {
    for (const l of this.listeners) l(b.row.id);
  }
}

function tooMany(n: number): DomainError {
  return new DomainError("too_many_targets", `${n} targets; a batch has at most ${MAX_BATCH_TARGETS}`);
}

/** How a call refused before anything was published ends its target. */
function refusal(err: unknown): BatchTargetStatus {
  if (err instanceof DomainError) {
    if (err.reason === "device_not_found" || err.reason === "device_disabled" || err.reason === "store_unavailable") return err.reason;
  }
  log.error("batch call failed unexpectedly", { error: (err as Error).message });
  return "interrupted";
}
