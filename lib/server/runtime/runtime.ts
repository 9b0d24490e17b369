import { startEmbeddedBroker, type EmbeddedBroker } from "../broker/embedded";
import { connectHost, loadConfig, type HubConfig } from "../config/config";
import { Hub, HUB_CLIENT_PREFIX } from "../calls/hub";
import { Store } from "../store/store";
import { Registry, parseBootstrapKey } from "../devices/registry";
import { brokerAccess } from "../auth/broker-acl";
import { TokenSigner } from "../auth/tokens";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { startLiveFeed } from "../live/feed";
import { clock } from "../core/call";
import { log } from "../core/log";

export type Runtime = {
  config: HubConfig;
  store: Store;
  registry: Registry;
  hub: Hub;
  broker: EmbeddedBroker | null;
  simulator: SimDevice | null;
  /** Signs the live view's MQTT credentials. */
  liveTokens: TokenSigner;
  /** Signs operator session cookies. */
  sessions: TokenSigner;
  stop(): Promise<void>;
};

const PRUNE_EVERY_MS = 60_000;

/** The simulated device `npm start` brings up, as in Tencent's sample (replies "ok"). */
export const DEMO_DEVICE = { productId: "AIRCOND001", deviceName: "airConditioner1" } as const;
/** MQTT client ids of live dashboards: they watch RRPC traffic and are not devices. */
export const LIVE_CLIENT_PREFIX = "rrpc-live-";

/** For an embedded broker without authentication (tests): observers are known by client id. */
export function isObserver(client: { id: string }): boolean {
  return client.id.startsWith(HUB_CLIENT_PREFIX) || client.id.startsWith(LIVE_CLIENT_PREFIX);
}

function bootstrapKey(registry: Registry, value: string | undefined) {
  if (!value) return;
  const key = parseBootstrapKey(value);
  if (!key) throw new Error("rrpc-hub: RRPC_BOOTSTRAP_KEY must be <SecretId>:<SecretKey>");
  const result = registry.ensureApiKey(key.secretId, key.secretKey);
  if (result === "revoked") log.warn("RRPC_BOOTSTRAP_KEY names a revoked key; it stays revoked", { secretId: key.secretId });
  else log.info("bootstrap API key", { secretId: key.secretId, result });
}

/** Store, registry, embedded broker (unless MQTT_URL is set), hub, live feed and simulated device, in that order. */
export async function createRuntime(config: HubConfig): Promise<Runtime> {
  const store = new Store(config.dbPath);
  const interrupted = store.interruptPending(clock.epoch(clock.now()));
  if (interrupted > 0) log.warn("calls left in flight by the previous run marked interrupted", { count: interrupted });
  const registry = new Registry(store.db);
  const liveTokens = new TokenSigner();
  const sessions = new TokenSigner();

  let broker: EmbeddedBroker | null = null;
  let hub: Hub | null = null;
  let simulator: SimDevice | null = null;
  let stopFeed = () => {};
  try {
    bootstrapKey(registry, config.bootstrapKey);
    let hubLogin = { username: config.mqttUsername, password: config.mqttPassword };
    if (!config.mqttUrl) {
      const access = brokerAccess({ registry, liveTokens, hubClientPrefix: HUB_CLIENT_PREFIX, liveClientPrefix: LIVE_CLIENT_PREFIX });
      hubLogin = access.hubCredentials;
      broker = await startEmbeddedBroker(
        { host: config.mqttHost, port: config.mqttPort, wsHost: config.mqttWsHost, wsPort: config.mqttWsPort, isObserver: access.isObserver },
        access.hooks,
      );
      log.info("embedded broker listening", {
        mqtt: `${config.mqttHost}:${broker.tcpPort}`,
        ws: `${config.mqttWsHost}:${broker.wsPort}/mqtt`,
      });
    }
    const mqttUrl = config.mqttUrl ?? `mqtt://${connectHost(config.mqttHost)}:${broker!.tcpPort}`;
    hub = new Hub({
      store,
      mqttUrl,
      broker: broker ?? undefined,
      maxInFlight: config.maxInFlight,
      maxPayloadBytes: config.maxPayloadBytes,
      defaultTimeoutMs: config.defaultTimeoutMs,
      mqttUsername: hubLogin.username,
      mqttPassword: hubLogin.password,
      deviceState: (p, d) => registry.deviceState(p, d),
    });
    await hub.start();
    stopFeed = startLiveFeed(hub, broker);
    if (config.simulator) {
      const { productId, deviceName } = DEMO_DEVICE;
      const secret = registry.getDeviceSecret(productId, deviceName) ?? registry.createDevice(productId, deviceName).secret;
      simulator = await startSimDevice({ url: mqttUrl, productId, deviceName, secret, reply: "ok" }).catch((err: Error) => {
        log.warn("simulated device did not start", { error: err.message });
        return null;
      });
      if (simulator) log.info("simulated device online", DEMO_DEVICE);
    }
  } catch (err) {
    await hub?.stop();
    await broker?.close();
    store.close();
    throw err;
  }

  const h = hub;
  const pruner = setInterval(() => {
    const n = store.prune(config.retentionCalls);
    if (n > 0) log.info("pruned old calls", { count: n, keep: config.retentionCalls });
  }, PRUNE_EVERY_MS);
  pruner.unref();
  let stopping: Promise<void> | null = null;
  return {
    config,
    store,
    registry,
    hub: h,
    broker,
    simulator,
    liveTokens,
    sessions,
    stop() {
      stopping ??= (async () => {
        clearInterval(pruner);
        await simulator?.stop();
        stopFeed();
        await h.stop();
        store.close();
        await broker?.close();
      })();
      return stopping;
    },
  };
}

// Next.js bundles instrumentation and route handlers separately: the one runtime of the
// process lives on globalThis, started by whichever asks first.
const KEY = Symbol.for("rrpc-hub.runtime");
type Global = typeof globalThis & { [KEY]?: Promise<Runtime> };

export function getRuntime(): Promise<Runtime> {
  const g = globalThis as Global;
  g[KEY] ??= createRuntime(loadConfig()).then((rt) => {
    // On exit nothing asynchronous completes: settle what is in flight and write it, synchronously.
    process.once("exit", () => {
      const n = rt.hub.interruptAll();
      rt.store.close();
      if (n > 0) log.warn("calls in flight at exit marked interrupted", { count: n });
    });
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => {
        void rt.stop().finally(() => process.exit(0));
      });
    }
    return rt;
  });
  return g[KEY];
}
