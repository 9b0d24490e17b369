import { LIVE_BATCHES_TOPIC, LIVE_CALLS_TOPIC, LIVE_PRESENCE_TOPIC, preview, type LiveCallUpdate, type LivePresence } from "../../rrpc/live";
import type { Batches } from "../batches/batches";
import { clock, type CallRecord, type StoredEvent } from "../core/call";
import { log } from "../core/log";
import type { EmbeddedBroker } from "../broker/embedded";
import type { Hub } from "../calls/hub";

const FLUSH_MS = 50;
/** Updates per message: each is under 1 KiB (payload previews are 256 bytes). */
const SLICE = 500;

/**
 * Publishes call state changes and device presence for live dashboards. Changes are collapsed
 * per call and sent at most every FLUSH_MS, so the feed costs one publish per window, not one
 * per event.
 */
export function startLiveFeed(hub: Hub, broker: Pick<EmbeddedBroker, "onPresence"> | null, batches?: Batches): () => void {
  /**
   * Per call changed in this window: the call, its latest event and whether the window saw it
   * start. The update is built once, at the flush, not for each of the call's events: the call
   * then holds the state that event left, since any later change would be a later event.
   */
  const calls = new Map<string, { call: CallRecord; event: StoredEvent; requested: boolean }>();
  const changedBatches = new Set<string>();
  const presence: LivePresence[] = [];
  let timer: NodeJS.Timeout | null = null;

  const flush = () => {
    timer = null;
    if (calls.size > 0) {
      // In slices: one message stays far below the broker's packet limit whatever the load.
      const all = [...calls.values()].map(updateOf);
      for (let i = 0; i < all.length; i += SLICE) hub.publishRaw(LIVE_CALLS_TOPIC, JSON.stringify(all.slice(i, i + SLICE)));
      calls.clear();
    }
    if (presence.length > 0) {
      hub.publishRaw(LIVE_PRESENCE_TOPIC, JSON.stringify(presence.splice(0)));
    }
    if (changedBatches.size > 0 && batches) {
      // A batch's state as of this window: a progress bar moves at most every FLUSH_MS.
      const ids = [...changedBatches];
      changedBatches.clear();
      void Promise.all(ids.map((id) => batches.get(id))).then(
        (states) => hub.publishRaw(LIVE_BATCHES_TOPIC, JSON.stringify(states)),
        (err: Error) => log.warn("live batch update not sent", { error: err.message }),
      );
    }
  };
  const schedule = () => {
    timer ??= setTimeout(flush, FLUSH_MS);
  };

  hub.onUpdate(({ call, event }) => {
    const prev = calls.get(call.processId);
    if (prev) {
      // A late reply may come with the call read back from the store: another object.
      prev.call = call;
      prev.event = event;
      prev.requested ||= event.type === "requested";
    } else calls.set(call.processId, { call, event, requested: event.type === "requested" });
    schedule();
  });

  batches?.onChange((id) => {
    changedBatches.add(id);
    schedule();
  });

  broker?.onPresence((device, online) => {
    presence.push({ ...device, online, at: clock.epoch(clock.now()) });
    schedule();
  });

  return () => {
    if (timer) clearTimeout(timer);
    flush();
  };
}

/** What the dashboard gets of a call: its state after `event`; the request's preview only with the update that saw it start. */
function updateOf({ call, event, requested }: { call: CallRecord; event: StoredEvent; requested: boolean }): LiveCallUpdate {
  const u: LiveCallUpdate = {
    processId: call.processId,
    productId: call.productId,
    deviceName: call.deviceName,
    status: call.status,
    event: event.type,
    t: event.t,
    at: call.startedAt + event.t,
    timeoutMs: call.timeoutMs,
  };
  if (requested) u.request = preview(call.request);
  if (call.reply) u.reply = preview(call.reply);
  if (call.rttMs !== undefined) u.rttMs = call.rttMs;
  if (call.caller) u.caller = call.caller;
  if (call.batchId) u.batchId = call.batchId;
  if (call.clientRef !== undefined) u.clientRef = call.clientRef;
  return u;
}
