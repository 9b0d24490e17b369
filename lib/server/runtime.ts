import { startEmbeddedBroker, type EmbeddedBroker } from "./broker";
import { connectHost, loadConfig, type HubConfig } from "./config";
import { Hub, HUB_CLIENT_PREFIX } from "./engine";
import { Store } from "./store";
import { startSimDevice, type SimDevice } from "../device/simulator";
import { startLiveFeed } from "./live";
import { clock } from "./call";
import { log } from "./log";

export type Runtime = {
  config: HubConfig;
  store: Store;
  hub: Hub;
  broker: EmbeddedBroker | null;
  simulator: SimDevice | null;
  stop(): Promise<void>;
};

/** The simulated device `npm start` brings up, as in Tencent's sample (replies "ok"). */
export const DEMO_DEVICE = { productId: "AIRCOND001", deviceName: "airConditioner1" } as const;
/** MQTT client ids of live dashboards: they watch RRPC traffic and are not devices. */
export const LIVE_CLIENT_PREFIX = "rrpc-live-";

export function isObserver(clientId: string): boolean {
  return clientId.startsWith(HUB_CLIENT_PREFIX) || clientId.startsWith(LIVE_CLIENT_PREFIX);
}

/** Store, embedded broker (unless MQTT_URL is set), hub and simulated device, in that order. */
export async function createRuntime(config: HubConfig): Promise<Runtime> {
  const store = new Store(config.dbPath);
  const interrupted = store.interruptPending(clock.epoch(clock.now()));
  if (interrupted > 0) log.warn("calls left in flight by the previous run marked interrupted", { count: interrupted });

  let broker: EmbeddedBroker | null = null;
  let hub: Hub | null = null;
  let simulator: SimDevice | null = null;
  let stopFeed = () => {};
  try {
    if (!config.mqttUrl) {
      broker = await startEmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        wsHost: config.mqttWsHost,
        wsPort: config.mqttWsPort,
        isObserver,
      });
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
    });
    await hub.start();
    stopFeed = startLiveFeed(hub, broker);
    if (config.simulator) {
      simulator = await startSimDevice({ url: mqttUrl, ...DEMO_DEVICE, reply: "ok" }).catch((err: Error) => {
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
  let stopping: Promise<void> | null = null;
  return {
    config,
    store,
    hub: h,
    broker,
    simulator,
    stop() {
      stopping ??= (async () => {
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
