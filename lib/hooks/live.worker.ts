/**
 * The live view off the page's thread: the MQTT connection, parsing and pairing of every message
 * run here; the page gets what changed (rows, presence) at most every DELTA_MS, and counters
 * alone at most every COUNTS_MS: a flood of messages that change no row (a device repeating its
 * replies) re-renders the page ten times a second, not sixty (docs/benchmarks.md, "Live timeline
 * in Chromium").
 */
import { LiveStore } from "./live-store";
import { connectLive, type FromWorker, type ToWorker } from "./live-connection";

const DELTA_MS = 16;
const COUNTS_MS = 100;

const scope = self as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

const store = new LiveStore();
let end: (() => void) | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let timerMs = 0;

function flush() {
  if (timer) clearTimeout(timer);
  timer = null;
  const delta = store.takeDelta();
  if (delta) scope.postMessage({ type: "delta", delta });
}
const changed = () => {
  const ms = store.rowsChanged ? DELTA_MS : COUNTS_MS;
  if (timer && timerMs <= ms) return;
  if (timer) clearTimeout(timer);
  timerMs = ms;
  timer = setTimeout(flush, ms);
};

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === "connect") {
    end?.();
    end = connectLive(
      m.options,
      store,
      (event) => {
        // What came before an event reaches the page before it.
        flush();
        scope.postMessage({ type: "event", event });
      },
      changed,
      (topic, payload) => scope.postMessage({ type: "topic", topic, payload }),
    );
  } else if (m.type === "end") {
    end?.();
    end = null;
  } else if (m.type === "calls") {
    store.mergeCalls(m.page, m.kind);
    flush();
  }
};
