import { randomBytes } from "node:crypto";
import { checkDevice, parseRrpcTopic, requestTopic, type FieldError } from "../../rrpc/topics";
import { parseProcessId } from "../../rrpc/process-id";
import {
  DEFAULT_MAX_REPLY_BYTES,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  timeoutInRange,
  payloadOverLimit,
  productPayloadOverLimit,
  type CallCaller,
  type CallEventType,
  type TerminalStatus,
} from "../../rrpc/types";
import { clock as systemClock, type CallRecord, type CallSource, type Clock, type StoredEvent } from "../core/call";
import { DomainError, invalidInput } from "../core/errors";
import { deviceNotFound, type DeviceState } from "../devices/registry";
import type { EmbeddedBroker } from "../broker/embedded";
import { inProcessTransport } from "../broker/inproc-transport";
import { mqttTransport } from "../broker/mqtt-transport";
import type { HubTransport } from "../broker/transport";
import type { CallStore } from "../store/call-store";
import { log } from "../core/log";
import { Deadlines, type DeadlineEntry } from "./deadlines";

export type CallRequest = {
  productId: string;
  deviceName: string;
  payload: Uint8Array;
  timeoutMs?: number;
  source?: CallSource;
  batchId?: string;
  commandId?: string;
  caller?: CallCaller;
  /** The caller's correlation token, carried to listeners (the live feed), never stored. */
  clientRef?: string;
};

export type HubOptions = {
  store: CallStore;
  /** The broker the hub connects to with MQTT.js: an external one, or the embedded one with `transport: "mqtt"`. */
  mqttUrl: string;
  /** The embedded broker, when there is one: it decides offline / not_subscribed at once and reports deliveries. */
  broker?: EmbeddedBroker;
  /**
   * With an embedded broker: "inproc" (the default) publishes into it and hears replies in-process,
   * no MQTT connection; "mqtt" connects to it on mqttUrl with MQTT.js, the former layout, which
   * only the bench uses (the colocated-mqtt row, docs/benchmarks.md).
   */
  transport?: "inproc" | "mqtt";
  maxInFlight: number;
  maxPayloadBytes: number;
  /** A reply larger than this ends its call `reply_too_large`, unkept (default DEFAULT_MAX_REPLY_BYTES). */
  maxReplyBytes?: number;
  defaultTimeoutMs: number;
  /** How long start() waits for the first MQTT.js connection before starting anyway (calls fail fast meanwhile). */
  connectWaitMs?: number;
  mqttUsername?: string;
  mqttPassword?: string;
  /** The device registry: calls to unknown or disabled devices are refused before anything is published. */
  deviceState?: (productId: string, deviceName: string) => DeviceState | Promise<DeviceState>;
  /** With an external broker: whether its client events say the device is disconnected (devices/broker-presence.ts). */
  knownOffline?: (productId: string, deviceName: string) => boolean;
  /** The product's request-size limit (devices/products.ts, from memory), null when only maxPayloadBytes applies. */
  productLimit?: (productId: string) => number | null;
  /** Time and timers; tests pass one they drive. */
  clock?: Clock;
  /**
   * Several hubs on one database and broker (cluster/ownership.ts): told each processId this hub
   * hands out, and asked whose a reply's processId is when no call of this hub waits for it.
   */
  ownership?: { allocated(messageId: number): void; owner(messageId: number): "mine" | "other" | "none" };
  /**
   * Answer as soon as a call ends instead of once its outcome is committed. Only the bench sets
   * it, to measure what durable answers cost (docs/benchmarks.md).
   */
  answerBeforeCommit?: boolean;
};

export type CallUpdate = { call: CallRecord; event: StoredEvent };

type Pending = {
  call: CallRecord;
  t0: number;
  deadline: number;
  timer: DeadlineEntry<Pending> | null;
  resolve: (c: CallRecord) => void;
  deliveries: number;
};

export const HUB_CLIENT_PREFIX = "rrpc-hub-";
/** A timeout the hub does not take, in the API's words. */
export const timeoutOutOfRange = (): FieldError => ({
  field: "timeoutMs",
  message: `timeoutMs must be an integer from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
});

/** A payload over RRPC_MAX_PAYLOAD, its size known or not (a body already too large to read), in the API's words. */
export function payloadTooLarge(limit: number, bytes?: number): DomainError {
  return new DomainError("payload_too_large", payloadOverLimit(limit, bytes), [{ field: "payload", message: `at most ${limit} bytes` }]);
}

/** A payload over its product's request-size limit (PUT /api/products/{productId}). */
export function productPayloadTooLarge(productId: string, limit: number, bytes: number): DomainError {
  return new DomainError("payload_too_large", productPayloadOverLimit(productId, limit, bytes), [
    { field: "payload", message: `at most ${limit} bytes for product ${productId}` },
  ]);
}

/**
 * Refuses a payload over RRPC_MAX_PAYLOAD or over its product's limit, whichever is lower: the
 * one size check of a call (Hub.validate) and of a batch's start (batches.ts).
 */
export function checkPayloadSize(productId: string, bytes: number, maxPayloadBytes: number, productLimit: number | null | undefined): void {
  if (productLimit != null && productLimit < maxPayloadBytes && bytes > productLimit) throw productPayloadTooLarge(productId, productLimit, bytes);
  if (bytes > maxPayloadBytes) throw payloadTooLarge(maxPayloadBytes, bytes);
}

/** Late replies larger than this are recorded by size only. */
const LATE_PAYLOAD_KEEP = 4096;
/**
 * Late, duplicate and foreign replies recorded per call; the rest are only counted
 * (counters.unrecordedReplies): a device that floods replies must not grow a trace, or the
 * store's writes, without bound.
 */
export const EXTRA_REPLIES_KEPT = 100;
const EXTRA_REPLY_EVENTS: ReadonlySet<CallEventType> = new Set(["late_reply", "duplicate_reply", "foreign_reply"]);
/**
 * Ended calls whose trace is full, remembered so that a flood of replies to one is counted
 * without reading the call back from the store for each (finding 6: 40,000 replies read the
 * trace back 40,000 times). The oldest is forgotten first.
 */
const FULL_TRACES_KEPT = 10_000;

/**
 * The hub: a transport to the broker that hears every reply (in-process into the embedded
 * broker, or one MQTT.js connection), a map of calls in flight by processId, their deadlines on
 * one timer (deadlines.ts). Every call settles exactly once (settle() is the only way out of
 * "pending"), and every state change is saved to the store and told to listeners.
 */
export class Hub {
  readonly clientId = HUB_CLIENT_PREFIX + randomBytes(6).toString("hex");
  private transport: HubTransport | null = null;
  private ready = false;
  private stopped = false;
  private readonly pending = new Map<string, Pending>();
  private readonly fullTraces = new Map<number, { productId: string; deviceName: string; answered: boolean }>();
  private afterEnd: Promise<void> = Promise.resolve();
  /** Calls waiting for the store's word on their device (call()); a batch counts them as in flight. */
  private admitting = 0;
  private readonly clock: Clock;
  /** Calls due together time out in one pass, at the one time read for it (docs/benchmarks.md, "Timeout precision"). */
  private readonly deadlines: Deadlines<Pending>;
  private readonly listeners: ((u: CallUpdate) => void)[] = [];
  private readonly readyListeners: ((ready: boolean) => void)[] = [];
  /** otherHubReplies: replies to calls of another hub on the same broker, left to it (docs/scale-out.md). */
  readonly counters = { strayReplies: 0, foreignReplies: 0, lateReplies: 0, duplicateReplies: 0, unrecordedReplies: 0, otherHubReplies: 0 };

  constructor(private readonly opts: HubOptions) {
    this.clock = opts.clock ?? systemClock;
    this.deadlines = new Deadlines(this.clock, (due, now) => {
      for (const p of due) this.settle(p, "timeout", undefined, now);
    });
    opts.broker?.onDelivered((processId, productId, deviceName) => this.onDelivered(processId, productId, deviceName));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Calls published and waiting for their answer, and calls whose device is being checked (they are about to be). */
  get inFlight(): number {
    return this.pending.size + this.admitting;
  }

  /** How many calls may be in flight at once (RRPC_MAX_IN_FLIGHT); more are refused `busy`. */
  get maxInFlight(): number {
    return this.opts.maxInFlight;
  }

  onUpdate(listener: (u: CallUpdate) => void): void {
    this.listeners.push(listener);
  }

  onReadyChange(listener: (ready: boolean) => void): void {
    this.readyListeners.push(listener);
  }

  async start(): Promise<void> {
    const events = { reply: (topic: string, payload: Buffer) => this.onReply(topic, payload), readyChange: (r: boolean) => this.setReady(r) };
    const o = this.opts;
    this.transport =
      o.broker && o.transport !== "mqtt"
        ? inProcessTransport(o.broker.aedes, events)
        : mqttTransport(
            { url: o.mqttUrl, clientId: this.clientId, username: o.mqttUsername, password: o.mqttPassword, connectWaitMs: o.connectWaitMs ?? 5000 },
            events,
          );
    await this.transport.start();
  }

  /** Validates, publishes, and resolves with the call once it has reached its terminal state. */
  call(req: CallRequest): Promise<CallRecord> {
    let state: DeviceState | Promise<DeviceState>;
    try {
      this.checkFields(req);
      state = this.opts.deviceState?.(req.productId, req.deviceName) ?? "ok";
    } catch (err) {
      return Promise.reject(err);
    }
    // The device check reads the store; what follows it is synchronous, so that admission (maxInFlight) cannot be overtaken.
    if (typeof state === "string") return this.admit(req, state);
    this.admitting++;
    return state.then(
      (s) => (this.admitting--, this.admit(req, s)),
      (err: unknown) => {
        this.admitting--;
        throw err;
      },
    );
  }

  private admit(req: CallRequest, state: DeviceState): Promise<CallRecord> {
    let timeoutMs: number;
    try {
      timeoutMs = this.validate(req, state);
    } catch (err) {
      return Promise.reject(err);
    }
    const t0 = this.clock.now();
    const { processId, messageId } = this.opts.store.allocateProcessId();
    this.opts.ownership?.allocated(messageId);
    const call: CallRecord = {
      processId,
      messageId,
      productId: req.productId,
      deviceName: req.deviceName,
      source: req.source ?? "api",
      status: "pending",
      request: req.payload,
      timeoutMs,
      startedAt: this.clock.epoch(t0),
      events: [{ type: "requested", t: 0 }],
    };
    if (req.batchId !== undefined) call.batchId = req.batchId;
    if (req.commandId !== undefined) call.commandId = req.commandId;
    if (req.caller !== undefined) call.caller = req.caller;
    if (req.clientRef !== undefined) call.clientRef = req.clientRef;
    this.emit(call, call.events[0]!);

    return new Promise<CallRecord>((resolve) => {
      const p: Pending = { call, t0, deadline: t0 + timeoutMs, timer: null, resolve, deliveries: 0 };
      if (this.stopped) return this.settle(p, "interrupted");
      if (!this.ready || !this.transport) return this.settle(p, "broker_unavailable");
      if (this.pending.size >= this.opts.maxInFlight) return this.settle(p, "busy");

      const topic = requestTopic(call.productId, call.deviceName, processId);
      const route =
        this.opts.broker?.route(topic, call.productId, call.deviceName) ??
        (this.opts.knownOffline?.(call.productId, call.deviceName) ? "offline" : "deliverable");
      if (route !== "deliverable") return this.settle(p, route);

      this.pending.set(processId, p);
      this.arm(p);
      // Before the publish: in-process, aedes delivers to the device (the `delivered` hop) within it.
      this.addEvent(call, "published", this.clock.now() - t0);
      // Tencent devices subscribe at QoS 0 (docs/protocol.md, "Payloads"); QoS 0 adds no ack round trip.
      this.transport.publish(topic, Buffer.from(req.payload.buffer, req.payload.byteOffset, req.payload.byteLength));
    });
  }

  private checkFields(req: CallRequest): number {
    const fields: FieldError[] = checkDevice(req.productId, req.deviceName);
    const timeoutMs = req.timeoutMs ?? this.opts.defaultTimeoutMs;
    if (!timeoutInRange(timeoutMs)) fields.push(timeoutOutOfRange());
    if (fields.length > 0) throw invalidInput(fields);
    return timeoutMs;
  }

  private validate(req: CallRequest, state: DeviceState): number {
    const timeoutMs = this.checkFields(req);
    if (state === "not_found") throw deviceNotFound(req.productId, req.deviceName);
    if (state === "disabled") throw new DomainError("device_disabled", `device ${req.productId}/${req.deviceName} is disabled`);
    checkPayloadSize(req.productId, req.payload.byteLength, this.opts.maxPayloadBytes, this.opts.productLimit?.(req.productId));
    return timeoutMs;
  }

  /** Deadlines never end a call before its deadline, even when their timer fires a little early. */
  private arm(p: Pending): void {
    p.timer = this.deadlines.add(p, p.deadline);
  }

  private settle(p: Pending, status: TerminalStatus, reply?: Uint8Array, repliedAt?: number, detail?: StoredEvent["detail"]): void {
    const { call } = p;
    if (call.status !== "pending") return;
    if (p.timer !== null) this.deadlines.remove(p.timer);
    this.pending.delete(call.processId);
    const t = (repliedAt ?? this.clock.now()) - p.t0;
    call.status = status;
    call.endedAt = call.startedAt + t;
    if (reply) {
      call.reply = reply;
      call.rttMs = t;
    }
    this.addEvent(call, status, t, detail);
    // Answered once committed: a caller that got an answer can find the call after any crash.
    if (this.opts.answerBeforeCommit) p.resolve(call);
    else void this.opts.store.written(call).then(() => p.resolve(call));
  }

  private onReply(topic: string, payload: Buffer): void {
    const now = this.clock.now();
    const r = parseRrpcTopic(topic);
    if (!r || r.direction !== "reply") return;
    const p = this.pending.get(r.processId);
    if (p) {
      const { call } = p;
      if (r.productId === call.productId && r.deviceName === call.deviceName) {
        this.addEvent(call, "replied", now - p.t0, { bytes: payload.length }, false);
        const limit = this.opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
        // Not kept: stored whatever their size, huge replies broke the history answers (docs/protocol.md, "Payloads").
        if (payload.length > limit) this.settle(p, "reply_too_large", undefined, now, { bytes: payload.length, limit });
        else this.settle(p, "success", payload, now);
      } else {
        this.counters.foreignReplies++;
        if (this.recordsMore(call)) this.addEvent(call, "foreign_reply", now - p.t0, { productId: r.productId, deviceName: r.deviceName });
        else this.counters.unrecordedReplies++;
      }
      return;
    }
    this.onReplyAfterEnd(r.processId, r.productId, r.deviceName, payload, now);
  }

  /**
   * A reply for a call that is no longer in flight: recorded on that call, never delivered.
   * Reading the call is asynchronous: such replies are handled one at a time, in the order they
   * came, each on the call as the one before left it.
   */
  private onReplyAfterEnd(processId: string, productId: string, deviceName: string, payload: Buffer, now: number): void {
    const id = parseProcessId(processId);
    const owner = id === null ? "none" : (this.opts.ownership?.owner(id) ?? "mine");
    // Another hub's call: that hub handles the reply; recording it here would record it twice.
    if (owner === "other") return void this.counters.otherHubReplies++;
    if (owner === "none" && this.opts.ownership) return void this.counters.strayReplies++;
    const full = id === null ? undefined : this.fullTraces.get(id);
    if (full) return this.countUnrecorded(full, productId, deviceName);
    this.afterEnd = this.afterEnd
      .then(() => this.recordAfterEnd(id, processId, productId, deviceName, payload, now))
      .catch((err: Error) => log.warn("a reply after the end of its call was not recorded", { processId, error: err.message }));
  }

  private async recordAfterEnd(
    id: number | null,
    processId: string,
    productId: string,
    deviceName: string,
    payload: Buffer,
    now: number,
  ): Promise<void> {
    const full = id === null ? undefined : this.fullTraces.get(id);
    if (full) return this.countUnrecorded(full, productId, deviceName);
    // Ended calls are not kept in memory (payloads can be large): the store has them, and
    // replies after the end are rare.
    const call = id === null ? null : await this.opts.store.get(id);
    if (!call) {
      this.counters.strayReplies++;
      log.debug("reply for an unknown processId", { processId, productId, deviceName });
      return;
    }
    const t = this.clock.epoch(now) - call.startedAt;
    const foreign = productId !== call.productId || deviceName !== call.deviceName;
    const answered = call.reply !== undefined || call.status === "reply_too_large" || call.events.some((e) => e.type === "late_reply");
    if (!this.recordsMore(call)) {
      const entry = { productId: call.productId, deviceName: call.deviceName, answered };
      this.fullTraces.set(call.messageId, entry);
      if (this.fullTraces.size > FULL_TRACES_KEPT) this.fullTraces.delete(this.fullTraces.keys().next().value!);
      return this.countUnrecorded(entry, productId, deviceName);
    }
    if (foreign) {
      this.counters.foreignReplies++;
      this.addEvent(call, "foreign_reply", t, { productId, deviceName });
      return;
    }
    this.counters[answered ? "duplicateReplies" : "lateReplies"]++;
    const detail: StoredEvent["detail"] = { bytes: payload.length };
    if (payload.length <= LATE_PAYLOAD_KEEP) detail.payloadBase64 = payload.toString("base64");
    this.addEvent(call, answered ? "duplicate_reply" : "late_reply", t, detail);
  }

  /** A reply after the end of a call whose trace is full: counted, not recorded, without reading the store. */
  private countUnrecorded(call: { productId: string; deviceName: string; answered: boolean }, productId: string, deviceName: string): void {
    this.counters.unrecordedReplies++;
    if (productId !== call.productId || deviceName !== call.deviceName) this.counters.foreignReplies++;
    else if (call.answered) this.counters.duplicateReplies++;
    else {
      this.counters.lateReplies++;
      call.answered = true;
    }
  }

  /** Whether the call's trace has room for one more late, duplicate or foreign reply. */
  private recordsMore(call: CallRecord): boolean {
    let n = 0;
    for (const e of call.events) if (EXTRA_REPLY_EVENTS.has(e.type)) n++;
    return n < EXTRA_REPLIES_KEPT;
  }

  private onDelivered(processId: string, productId: string, deviceName: string): void {
    const p = this.pending.get(processId);
    if (!p || p.call.productId !== productId || p.call.deviceName !== deviceName) return;
    // One event for the first subscriber; more subscribers only raise the count on it.
    if (++p.deliveries === 1) this.addEvent(p.call, "delivered", this.clock.now() - p.t0, { subscribers: 1 });
    else {
      const e = p.call.events.find((x) => x.type === "delivered");
      if (e?.detail) e.detail.subscribers = p.deliveries;
    }
  }

  private addEvent(call: CallRecord, type: CallEventType, t: number, detail?: StoredEvent["detail"], save = true): void {
    const event: StoredEvent = detail ? { type, t, detail } : { type, t };
    call.events.push(event);
    if (save) this.opts.store.save(call);
    this.emit(call, event);
  }

  private emit(call: CallRecord, event: StoredEvent): void {
    for (const l of this.listeners) {
      try {
        l({ call, event });
      } catch (err) {
        log.error("call update listener failed", { error: (err as Error).message });
      }
    }
  }

  private setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    for (const l of this.readyListeners) l(ready);
  }

  /** Publishes through the hub's transport (QoS 0); false when not connected. Used by the live feed. */
  publishRaw(topic: string, payload: string | Buffer): boolean {
    if (!this.ready || !this.transport) return false;
    this.transport.publish(topic, typeof payload === "string" ? Buffer.from(payload) : payload);
    return true;
  }

  /**
   * Ends every call in flight as `interrupted` and saves it. Synchronous on purpose: it also
   * runs from process 'exit', where nothing asynchronous completes.
   */
  interruptAll(): number {
    this.stopped = true;
    const all = [...this.pending.values()];
    for (const p of all) this.settle(p, "interrupted");
    return all.length;
  }

  async stop(): Promise<void> {
    this.interruptAll();
    this.setReady(false);
    await this.transport?.close();
    this.transport = null;
  }
}
