"use client";
import { createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import mqtt from "mqtt";
import { LIVE_FILTERS } from "../rrpc/live";
import { LiveStore, type LiveSnapshot } from "./live-store";
import type { LiveConfig } from "../rrpc/api";
import { KEYS, useLiveConfig } from "./use-api";
import { api, ApiClientError } from "./api-client";

export type LiveConnection = {
  state: "connecting" | "connected" | "reconnecting" | "offline" | "unavailable";
  reconnects: number;
  error?: string;
};

/** Told of every message of one topic as it arrives (not throttled). */
export type TopicListener = (payload: Uint8Array) => void;
type Ctx = {
  store: LiveStore;
  subscribe: (cb: () => void) => () => void;
  connection: LiveConnection;
  onTopic: (topic: string, listener: TopicListener) => () => void;
};
const LiveContext = createContext<Ctx | null>(null);
const RENDER_EVERY_MS = 250;

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
 * One MQTT-over-WebSocket connection per tab, shared by every page: it watches all RRPC
 * traffic and the hub's feed. Listeners are told at once after a quiet spell, then at most every
 * RENDER_EVERY_MS: under a storm, layout and paint (not JavaScript) were what starved a 2-core
 * machine, and nobody reads 60 table updates a second.
 */
export function LiveProvider({ children }: { children: React.ReactNode }) {
  const { data: cfg, error: cfgError, mutate: refreshCfg } = useLiveConfig();
  const store = useMemo(() => new LiveStore(), []);
  const listeners = useRef(new Set<() => void>());
  const topicListeners = useRef(new Map<string, Set<TopicListener>>());
  const [connection, setConnection] = useState<LiveConnection>({ state: "connecting", reconnects: 0 });
  /** Fresh credentials the broker refused in a row: past REFUSALS_MAX, stop and say so instead of looping. */
  const refusals = useRef(0);
  const [refused, setRefused] = useState<string | null>(null);

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
    if (!cfg) return;
    const url = brokerUrl(cfg);
    if (!url) return;
    const clientId = cfg.clientIdPrefix + Math.random().toString(36).slice(2, 10);
    const client = mqtt.connect(url, {
      clientId,
      username: cfg.username ?? undefined,
      password: cfg.password ?? undefined,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    let reconnects = 0;
    const notify = () => {
      timer = null;
      last = performance.now();
      for (const l of listeners.current) l();
    };
    client.on("connect", () => {
      refusals.current = 0;
      setConnection({ state: "connected", reconnects });
      client.subscribe([...LIVE_FILTERS], { qos: 0 });
    });
    client.on("reconnect", () => {
      reconnects++;
      setConnection({ state: "reconnecting", reconnects });
      // The credential is short-lived: past its expiry, fetch a new one and connect afresh.
      if (cfg.expiresAt !== null && Date.now() > cfg.expiresAt - 5000) {
        client.end(true);
        void refreshCfg();
      }
    });
    client.on("offline", () => setConnection({ state: "offline", reconnects }));
    client.on("error", (err) => {
      setConnection((c) => ({ ...c, error: err.message }));
      // The broker refused the credential (the server restarted, or it expired): ask for a new
      // one; without a valid session that request leads to the sign-in page (api-client.ts).
      if (!REFUSED_CODES.has((err as { code?: unknown }).code as number)) return;
      client.end(true);
      if (++refusals.current > REFUSALS_MAX) setRefused(`the broker refuses this browser's credential (${err.message})`);
      else void renew();
    });
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
    client.on("message", (topic, payload) => {
      store.ingest(topic, payload);
      topicListeners.current.get(topic)?.forEach((l) => l(payload));
      timer ??= setTimeout(notify, Math.max(0, last + RENDER_EVERY_MS - performance.now()));
    });
    return () => {
      ended = true;
      if (timer) clearTimeout(timer);
      client.end(true);
    };
  }, [cfg, store, refreshCfg]);

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
      onTopic,
      connection: unavailable ? ({ state: "unavailable", reconnects: 0, error: unavailable } as const) : connection,
    }),
    [store, subscribe, onTopic, connection, unavailable],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

function useLiveContext(): Ctx {
  const ctx = useContext(LiveContext);
  if (!ctx) throw new Error("useLive must be used inside <LiveProvider>");
  return ctx;
}

const EMPTY: LiveSnapshot = { rows: [], dropped: 0, messages: 0, presence: new Map() };

/** The live snapshot (rows newest first, presence) and the connection state. */
export function useLive(): { snapshot: LiveSnapshot; connection: LiveConnection; store: LiveStore } {
  const { store, subscribe, connection } = useLiveContext();
  const snapshot = useSyncExternalStore(
    subscribe,
    () => store.getSnapshot(),
    () => EMPTY,
  );
  return { snapshot, connection, store };
}

/**
 * Every message of one live topic, as it arrives, on the tab's one connection; and the
 * connection's state (a view falls back to polling while it is not `connected`).
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
