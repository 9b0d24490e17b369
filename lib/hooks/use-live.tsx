"use client";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { LiveStore, type LiveSnapshot } from "./live-store";
import { connectLive, type FromWorker, type LiveConnectOptions, type LiveEvent, type ToWorker } from "./live-connection";
import type { CallsPage, LiveConfig } from "../rrpc/api";
import { KEYS, useLiveConfig } from "./use-api";
import { api, ApiClientError } from "./api-client";

export type LiveConnection = {
  state: "connecting" | "connected" | "reconnecting" | "offline" | "unavailable";
  reconnects: number;
  error?: string;
};

/** Told of every message of one topic as it arrives (not throttled). */
export type TopicListener = (payload: Uint8Array) => void;

/** Calls read from the store on load (and after a reconnect): a screenful. */
export const BACKFILL_CALLS = 50;
/** Calls read from the store per page back. */
export const OLDER_CALLS = 200;

type Ctx = {
  store: LiveStore;
  subscribe: (cb: () => void) => () => void;
  connection: LiveConnection;
  /** Reads the calls before the oldest in memory from the store; false when there are none. */
  loadOlder: () => Promise<boolean>;
  /** A view that shows rows asks for the newest stored calls (once per connection). */
  wantBackfill: () => void;
  /** Hears every message of a forwarded topic (live-connection.ts, FORWARDED_TOPICS). */
  onTopic: (topic: string, listener: TopicListener) => () => void;
};
const LiveContext = createContext<Ctx | null>(null);
/** Listeners are told once per animation frame; a hidden tab (no frames) at least this often. */
const HIDDEN_RENDER_MS = 250;

function brokerUrl(cfg: LiveConfig): string | null {
  if (cfg.url) return cfg.url;
  if (cfg.port === null) return null;
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.hostname}:${cfg.port}${cfg.path}`;
}

/** CONNACK refusals of a credential: bad user name or password, not authorized (MQTT 3.1.1 and 5). */
const REFUSED_CODES: ReadonlySet<number> = new Set([4, 5, 134, 135]);
const REFUSALS_MAX = 3;

/**
 * Where the connection runs: in a Web Worker (parsing and pairing off the page's thread; the page
 * mirrors the worker's store from its deltas), or in the page when there is no worker.
 */
class LiveBackend {
  private worker: Worker | null = null;
  private endInPage: (() => void) | null = null;
  private last: LiveConnectOptions | null = null;

  constructor(
    private readonly store: LiveStore,
    private readonly changed: () => void,
    private readonly onEvent: (e: LiveEvent) => void,
    private readonly onTopic: (topic: string, payload: Uint8Array) => void,
  ) {
    try {
      this.worker = new Worker(new URL("./live.worker.ts", import.meta.url), { type: "module", name: "rrpc-live" });
    } catch {
      this.worker = null;
    }
    if (!this.worker) return;
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "delta") {
        this.store.applyDelta(m.delta);
        this.changed();
      } else if (m.type === "topic") this.onTopic(m.topic, m.payload);
      else this.onEvent(m.event);
    };
    // A worker that cannot run (blocked, failed to load): the page does the work itself.
    this.worker.onerror = () => {
      this.worker?.terminate();
      this.worker = null;
      if (this.last) this.connect(this.last);
    };
  }

  private post(m: ToWorker) {
    this.worker!.postMessage(m);
  }

  connect(o: LiveConnectOptions) {
    this.last = o;
    if (this.worker) return this.post({ type: "connect", options: o });
    this.endInPage?.();
    this.endInPage = connectLive(o, this.store, (e) => this.onEvent(e), this.changed, this.onTopic);
  }

  end() {
    this.last = null;
    if (this.worker) return this.post({ type: "end" });
    this.endInPage?.();
    this.endInPage = null;
  }

  mergeCalls(page: CallsPage, kind: "latest" | "older") {
    if (this.worker) return this.post({ type: "calls", page, kind });
    this.store.mergeCalls(page, kind);
    this.changed();
  }

  dispose() {
    this.end();
    this.worker?.terminate();
    this.worker = null;
  }
}

/**
 * One MQTT-over-WebSocket connection per tab, shared by every page: it watches all RRPC
 * traffic and the hub's feed, off the page's thread when it can. Listeners are told at most
 * once per animation frame, however many messages came meanwhile.
 */
export function LiveProvider({ children }: { children: React.ReactNode }) {
  const { data: cfg, error: cfgError, mutate: refreshCfg } = useLiveConfig();
  const store = useMemo(() => new LiveStore(), []);
  const listeners = useRef(new Set<() => void>());
  const topicListeners = useRef(new Map<string, Set<TopicListener>>());
  const [backend, setBackend] = useState<LiveBackend | null>(null);
  const [connection, setConnection] = useState<LiveConnection>({ state: "connecting", reconnects: 0 });
  /** Fresh credentials the broker refused in a row: past REFUSALS_MAX, stop and say so instead of looping. */
  const refusals = useRef(0);
  const [refused, setRefused] = useState<string | null>(null);
  /** Backfill: wanted by a view, done for the current subscription. */
  const backfill = useRef({ wanted: false, subscribed: false, done: false });
  const olderLoading = useRef<Promise<boolean> | null>(null);
  /** What the connection's events do; set by the effect that connects. */
  const onEvent = useRef<(e: LiveEvent) => void>(() => {});

  const subscribe = useMemo(
    () => (cb: () => void) => {
      listeners.current.add(cb);
      return () => void listeners.current.delete(cb);
    },
    [],
  );
  const onTopic = useMemo(
    () => (topic: string, listener: TopicListener) => {
      const set = topicListeners.current.get(topic) ?? new Set<TopicListener>();
      topicListeners.current.set(topic, set);
      set.add(listener);
      return () => void set.delete(listener);
    },
    [],
  );

  useEffect(() => {
    let frame: number | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const notify = () => {
      if (frame !== null) cancelAnimationFrame(frame);
      if (timer !== null) clearTimeout(timer);
      frame = timer = null;
      for (const l of listeners.current) l();
    };
    const changed = () => {
      if (frame !== null) return;
      frame = requestAnimationFrame(notify);
      timer = setTimeout(notify, HIDDEN_RENDER_MS);
    };
    // The backend owns a worker: made once the page runs, ended with it.
    const b = new LiveBackend(
      store,
      changed,
      (e) => onEvent.current(e),
      (topic, payload) => topicListeners.current.get(topic)?.forEach((l) => l(payload)),
    );
    setBackend(b);
    return () => {
      b.dispose();
      if (frame !== null) cancelAnimationFrame(frame);
      if (timer !== null) clearTimeout(timer);
    };
  }, [store]);

  /** The newest page of stored calls, merged with what the feed brings (subscribed first: no gap). */
  const runBackfill = useCallback(() => {
    const b = backfill.current;
    if (!backend || !b.wanted || !b.subscribed || b.done) return;
    b.done = true;
    const attempt = () =>
      api<CallsPage>("GET", `/api/calls?limit=${BACKFILL_CALLS}`).then(
        (page) => backend.mergeCalls(page, "latest"),
        // Tried again in a while, as long as the subscription lasts (the next one tries anew).
        () => void setTimeout(() => b.subscribed && void attempt(), 2000),
      );
    void attempt();
  }, [backend]);

  useEffect(() => {
    if (!cfg || !backend) return;
    const url = brokerUrl(cfg);
    if (!url) return;
    let reconnects = 0;
    // After a restart the broker may take logins before the HTTP server answers: ask until it does.
    let ended = false;
    const renew = async () => {
      while (!ended) {
        try {
          // A 401 here goes to the sign-in page (api-client.ts); a new credential restarts this effect.
          const fresh = await api<LiveConfig>("GET", KEYS.live);
          if (!ended) await refreshCfg(fresh, { revalidate: false });
          return;
        } catch (err) {
          if (err instanceof ApiClientError && err.status === 401) return;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    const bf = backfill.current;
    onEvent.current = (e) => {
      switch (e.type) {
        case "connect":
          refusals.current = 0;
          return;
        case "subscribed":
          setConnection({ state: "connected", reconnects });
          // After a reconnect, what was missed meanwhile comes from the store.
          bf.subscribed = true;
          bf.done = false;
          runBackfill();
          return;
        case "reconnect":
          reconnects++;
          bf.subscribed = false;
          setConnection({ state: "reconnecting", reconnects });
          // The credential is short-lived: past its expiry, fetch a new one and connect afresh.
          if (cfg.expiresAt !== null && Date.now() > cfg.expiresAt - 5000) {
            backend.end();
            void refreshCfg();
          }
          return;
        case "offline":
          bf.subscribed = false;
          setConnection({ state: "offline", reconnects });
          return;
        case "error":
          setConnection((c) => ({ ...c, error: e.message }));
          // The broker refused the credential (the server restarted, or it expired): ask for a new
          // one; without a valid session that request leads to the sign-in page (api-client.ts).
          if (e.code === undefined || !REFUSED_CODES.has(e.code)) return;
          backend.end();
          if (++refusals.current > REFUSALS_MAX) setRefused(`the broker refuses this browser's credential (${e.message})`);
          else void renew();
      }
    };
    backend.connect({
      url,
      clientId: cfg.clientIdPrefix + Math.random().toString(36).slice(2, 10),
      username: cfg.username ?? undefined,
      password: cfg.password ?? undefined,
    });
    return () => {
      ended = true;
      bf.subscribed = false;
      backend.end();
    };
  }, [cfg, backend, refreshCfg, runBackfill]);

  const wantBackfill = useCallback(() => {
    backfill.current.wanted = true;
    runBackfill();
  }, [runBackfill]);

  const loadOlder = useCallback(() => {
    if (olderLoading.current) return olderLoading.current;
    const before = store.getSnapshot().olderBefore;
    if (!backend || typeof before !== "string") return Promise.resolve(false);
    const p = api<CallsPage>("GET", `/api/calls?limit=${OLDER_CALLS}&before=${before}`)
      .then((page) => {
        backend.mergeCalls(page, "older");
        return page.calls.length > 0;
      })
      .finally(() => {
        olderLoading.current = null;
      });
    olderLoading.current = p;
    return p;
  }, [store, backend]);

  const unavailable = refused
    ? refused
    : cfgError
      ? "cannot load live settings"
      : cfg && !brokerUrl(cfg)
        ? "no WebSocket endpoint for the broker (set MQTT_WS_PUBLIC_URL)"
        : null;
  const value = useMemo(
    () => ({
      store,
      subscribe,
      loadOlder,
      wantBackfill,
      onTopic,
      connection: unavailable ? ({ state: "unavailable", reconnects: 0, error: unavailable } as const) : connection,
    }),
    [store, subscribe, onTopic, connection, unavailable, loadOlder, wantBackfill],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

function useLiveContext(): Ctx {
  const ctx = useContext(LiveContext);
  if (!ctx) throw new Error("useLive must be used inside <LiveProvider>");
  return ctx;
}

const EMPTY: LiveSnapshot = { rows: [], dropped: 0, messages: 0, calls: 0, presence: new Map(), refs: new Map(), olderBefore: undefined };

/** The live snapshot (rows newest first, presence) and the connection state. */
export function useLive(): { snapshot: LiveSnapshot; connection: LiveConnection; loadOlder: () => Promise<boolean> } {
  const { store, subscribe, connection, loadOlder } = useLiveContext();
  const snapshot = useSyncExternalStore(
    subscribe,
    () => store.getSnapshot(),
    () => EMPTY,
  );
  return { snapshot, connection, loadOlder };
}

/**
 * One value of the live snapshot: the component re-renders only when that value changes (a row
 * keeps its identity until it changes), not on every message. `select` must return a primitive
 * or something the snapshot holds.
 */
export function useLiveSelect<T>(select: (s: LiveSnapshot) => T): T {
  const { store, subscribe } = useLiveContext();
  return useSyncExternalStore(
    subscribe,
    () => select(store.getSnapshot()),
    () => select(EMPTY),
  );
}

/** For views that draw rows: the newest stored calls are merged in once the live connection is up. */
export function useBackfill(): void {
  const { wantBackfill } = useLiveContext();
  useEffect(() => wantBackfill(), [wantBackfill]);
}

/**
 * Every message of one forwarded live topic (batches' progress), as it arrives, on the tab's one
 * connection; and the connection's state (a view falls back to polling while it is not `connected`).
 */
export function useLiveTopic(topic: string, onMessage: TopicListener): LiveConnection {
  const { onTopic, connection } = useLiveContext();
  const latest = useRef(onMessage);
  useEffect(() => {
    latest.current = onMessage;
  });
  useEffect(() => onTopic(topic, (payload) => latest.current(payload)), [onTopic, topic]);
  return connection;
}
