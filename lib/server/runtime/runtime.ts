import { DEFAULT_MAX_OUTGOING_BYTES, startEmbeddedBroker, type EmbeddedBroker } from "../broker/embedded";
import { connectHost, type HubConfig } from "../config/config";
import { Hub, HUB_CLIENT_PREFIX } from "../calls/hub";
import { SqliteCallStore, type CallStore } from "../store/call-store";
import { PgCallStore } from "../store/pg-store";
import { openPostgres } from "../store/open";
import { redactUrl } from "../store/sql";
import { CommandRegistry } from "../commands/commands";
import { Batches } from "../batches/batches";
import { createCluster, newHubId, type Cluster } from "../cluster/cluster";
import { storedKey } from "../store/secrets";
import { createHmac } from "node:crypto";
import { DeviceRegistry } from "../devices/registry";
import { ProductSettings } from "../devices/products";
import { ApiKeys, parseBootstrapKey } from "../keys/api-keys";
import { brokerAccess } from "../auth/broker-acl";
import { HUB_USERNAME, type BrokerRules } from "../auth/broker-rules";
import { sharedBrokerKeys } from "../auth/broker-hooks";
import { startBrokerPresence, type BrokerPresenceClient } from "../devices/broker-presence";
import { randomBytes } from "node:crypto";
import { hostAllowed, originAuthority } from "../auth/hosts";
import { TokenSigner } from "../auth/tokens";
import type { CallerAuth } from "../auth/callers";
import { OperatorSignIn } from "../auth/operator";
import { Users } from "../auth/users";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { startLiveFeed } from "../live/feed";
import { LIVE_CLIENT_PREFIX } from "../live/access";
import { clock } from "../core/call";
import { createMetrics, type Metrics } from "../metrics/metrics";
import { PresenceLog } from "../devices/presence";
import { log } from "../core/log";

/** Everything one hub process runs, started once by the entry point (server/main.ts). */
export type Runtime = {
  config: HubConfig;
  store: CallStore;
  devices: DeviceRegistry;
  /** Per-product settings: request-size limits. */
  products: ProductSettings;
  keys: ApiKeys;
  commands: CommandRegistry;
  batches: Batches;
  hub: Hub;
  broker: EmbeddedBroker | null;
  simulator: SimDevice | null;
  /** Signs the live view's MQTT credentials. */
  liveTokens: TokenSigner;
  /** Signs operator session cookies. */
  sessions: TokenSigner;
  /** Team accounts and their sessions. */
  users: Users;
  /** What identifies an HTTP caller. */
  callerAuth: CallerAuth & { users: Users };
  operatorSignIn: OperatorSignIn;
  /** Prometheus metrics (GET /metrics); other features count into it (metrics/metrics.ts). */
  metrics: Metrics;
  /** With DATABASE_URL: this hub among the hubs sharing the database (docs/scale-out.md); null with SQLite. */
  cluster: Cluster | null;
  /** Resolves if peers took over this hub's work (its heartbeat was too old): the process must stop. */
  fenced: Promise<void>;
  /** Devices' online/offline changes since start (embedded broker; an external one's client events). */
  presence: PresenceLog | null;
  /** The broker rules the HTTP hooks apply (POST /api/broker/authn|authz); null unless RRPC_BROKER_HOOK_SECRET is set. */
  brokerRules: BrokerRules | null;
  /** With an external broker: its client events, when it publishes them (devices/broker-presence.ts). */
  brokerEvents: BrokerPresenceClient | null;
  /** Stops everything; calls in flight end `interrupted`. */
  stop(): Promise<void>;
  /** For process exit, where nothing asynchronous completes: ends and writes the calls in flight. */
  stopNow(): number;
};

const PRUNE_EVERY_MS = 60_000;

/** The simulated device `npm start` brings up, as in Tencent's sample (replies "ok"). */
export const DEMO_DEVICE = { productId: "AIRCOND001", deviceName: "airConditioner1" } as const;

/** For an embedded broker without authentication (tests): observers are known by client id. */
export function isObserver(client: { id: string }): boolean {
  return client.id.startsWith(HUB_CLIENT_PREFIX) || client.id.startsWith(LIVE_CLIENT_PREFIX);
}

async function bootstrapKey(keys: ApiKeys, value: string | undefined) {
  if (!value) return;
  const key = parseBootstrapKey(value);
  if (!key) throw new Error("rrpc-hub: RRPC_BOOTSTRAP_KEY must be <SecretId>:<SecretKey>");
  const result = await keys.ensureApiKey(key.secretId, key.secretKey);
  if (result === "revoked") log.warn("RRPC_BOOTSTRAP_KEY names a revoked key; it stays revoked", { secretId: key.secretId });
  else log.info("bootstrap API key", { secretId: key.secretId, result });
}

/**
 * The calls store and the database every repository shares: PostgreSQL with DATABASE_URL, else
 * the SQLite file RRPC_DB (docs/storage.md).
 */
async function openStore(config: HubConfig, hubId: string | null): Promise<CallStore> {
  if (!config.databaseUrl) return SqliteCallStore.open(config.dbPath);
  const sql = await openPostgres(config.databaseUrl);
  try {
    const store = await PgCallStore.open(sql, { hubId });
    log.info("store: PostgreSQL", { url: redactUrl(config.databaseUrl), hubId });
    return store;
  } catch (err) {
    await sql.close();
    throw err;
  }
}

/**
 * Store, registries, embedded broker (unless MQTT_URL is set), hub, live feed and simulated
 * device, in that order. `hubId` names this process among hubs sharing one PostgreSQL database
 * (calls.hub_id, batches.hub_id); without it the hub is the only one.
 */
export async function createRuntime(config: HubConfig, opts: { hubId?: string } = {}): Promise<Runtime> {
  // Each process is a hub of its own, named at random: nothing to configure (docs/scale-out.md).
  const hubId = opts.hubId ?? (config.databaseUrl ? newHubId() : null);
  const store = await openStore(config, hubId);
  const sql = store.sql;
  let devices: DeviceRegistry, products: ProductSettings, keys: ApiKeys, sessions: TokenSigner, users: Users;
  try {
    const interrupted = await store.interruptPending(clock.epoch(clock.now()));
    if (interrupted > 0) log.warn("calls left in flight by the previous run marked interrupted", { count: interrupted });
    devices = new DeviceRegistry(sql);
    products = await ProductSettings.open(sql, config.maxPayloadBytes);
    keys = new ApiKeys(sql);
    // Sessions outlive a restart: the signing key and the sessions (table sessions) are in the
    // database. Signing out, removing or disabling a user, or a new password ends them (auth/users.ts).
    sessions = new TokenSigner(
      createHmac("sha256", await storedKey(sql, "session_key"))
        .update("sessions v2")
        .digest(),
    );
    users = new Users(sql);
    // The configured operator is the first admin; the configuration wins for its password.
    if (config.operator) await users.ensureAdmin(config.operator.user, config.operator.passwordHash);
  } catch (err) {
    await store.close();
    throw err;
  }
  // Every hub sharing the hook secret signs and verifies the same logins: the broker's hook
  // request may reach any of them (docs/scale-out.md).
  const shared = config.brokerHookSecret ? sharedBrokerKeys(config.brokerHookSecret) : null;
  const liveTokens = new TokenSigner(shared?.liveTokenKey);

  let broker: EmbeddedBroker | null = null;
  const commands = new CommandRegistry(sql, config.maxPayloadBytes);
  let hub: Hub | null = null;
  let batches: Batches | null = null;
  let simulator: SimDevice | null = null;
  let presence: PresenceLog | null = null;
  let brokerEvents: BrokerPresenceClient | null = null;
  const brokerRules: BrokerRules | null = shared
    ? { registry: devices, liveTokens, hubPassword: shared.hubPassword, hubClientPrefix: HUB_CLIENT_PREFIX, liveClientPrefix: LIVE_CLIENT_PREFIX }
    : null;
  let stopFeed = () => {};
  let cluster: Cluster | null = null;
  let onFenced = () => {};
  const fenced = new Promise<void>((resolve) => (onFenced = resolve));
  try {
    await bootstrapKey(keys, config.bootstrapKey);
    // MQTT_USERNAME wins: a broker may let the hub in by its own means (docs/scale-out.md).
    const hubLogin =
      shared && config.mqttUsername === undefined
        ? { username: HUB_USERNAME, password: shared.hubPassword }
        : { username: config.mqttUsername, password: config.mqttPassword };
    if (!config.mqttUrl) {
      const access = brokerAccess({ registry: devices, liveTokens, hubClientPrefix: HUB_CLIENT_PREFIX, liveClientPrefix: LIVE_CLIENT_PREFIX });
      broker = await startEmbeddedBroker(
        {
          host: config.mqttHost,
          port: config.mqttPort,
          wsHost: config.mqttWsHost,
          wsPort: config.mqttWsPort,
          isObserver: access.isObserver,
          maxPacketBytes: config.mqttMaxPacketBytes,
          // Room for two packets of the largest size: below one, the hub was disconnected as a slow
          // reader by any reply over 8 MiB, however fast it read.
          maxOutgoingBytes: Math.max(DEFAULT_MAX_OUTGOING_BYTES, 2 * config.mqttMaxPacketBytes),
          // A page on a rebound name must not reach the broker either (auth/hosts.ts).
          acceptWebSocket: (req) =>
            hostAllowed(req.headers.host ?? null, config.allowedHosts) &&
            (req.headers.origin === undefined || hostAllowed(originAuthority(req.headers.origin), config.allowedHosts)),
        },
        access.hooks,
      );
      const b = broker;
      presence = new PresenceLog(b);
      // A login that stops being valid ends the connections made with it, not only the next ones.
      devices.onRevoked((productId, deviceName) => {
        const closed = b.closeClients((c) => access.isDevice(c, productId, deviceName));
        if (closed > 0) log.info("device disconnected: its login was revoked", { productId, deviceName, connections: closed });
      });
      log.info("embedded broker listening", {
        mqtt: `${config.mqttHost}:${broker.tcpPort}`,
        ws: `${config.mqttWsHost}:${broker.wsPort}/mqtt`,
      });
    }
    const mqttUrl = config.mqttUrl ?? `mqtt://${connectHost(config.mqttHost)}:${broker!.tcpPort}`;
    if (config.mqttUrl) {
      brokerEvents = startBrokerPresence({
        url: config.mqttUrl,
        clientId: `${HUB_CLIENT_PREFIX}events-${randomBytes(6).toString("hex")}`,
        username: hubLogin.username,
        password: hubLogin.password,
        registry: devices,
      });
      presence = new PresenceLog(brokerEvents.presence);
    }
    const events = brokerEvents?.presence;
    const b = () => batches!;
    cluster =
      hubId === null
        ? null
        : createCluster({
            sql,
            hubId,
            leaseMs: config.hubLeaseMs,
            interruptCalls: (id, at) => store.interruptPendingOf(id, at),
            interruptBatches: async (id) => (await b().recoverOf(id)).length,
            onFenced: () => onFenced(),
            onBeat: () => products.reload(),
            runningBatches: () => b().runningIds(),
            cancelBatch: (id) => b().cancel(id),
          });
    hub = new Hub({
      store,
      mqttUrl,
      broker: broker ?? undefined,
      maxInFlight: config.maxInFlight,
      maxPayloadBytes: config.maxPayloadBytes,
      maxReplyBytes: config.maxReplyBytes,
      defaultTimeoutMs: config.defaultTimeoutMs,
      mqttUsername: hubLogin.username,
      mqttPassword: hubLogin.password,
      deviceState: (p, d) => devices.deviceState(p, d),
      knownOffline: events ? (p, d) => events.isOffline(p, d) : undefined,
      productLimit: (p) => products.limitOf(p),
      ownership: cluster?.ownership,
    });
    const embedded = broker;
    batches = new Batches({
      sql,
      hubId,
      hub,
      commands,
      devicesOf: (productId) => devices.listDevices({ productId }),
      online: () => embedded?.onlineDevices() ?? null,
      maxPayloadBytes: config.maxPayloadBytes,
      productLimit: (p) => products.limitOf(p),
      defaultTimeoutMs: config.defaultTimeoutMs,
      cancelElsewhere: cluster ? (id) => cluster!.requestCancel(id) : undefined,
    });
    const recovered = await batches.recover();
    if (recovered.length > 0) log.warn("batches left running by the previous run ended interrupted", { batches: recovered });
    // Before the first call: this hub's row and heartbeat; hubs already dead are taken over.
    await cluster?.start();
    await hub.start();
    stopFeed = startLiveFeed(hub, broker ?? brokerEvents?.presence ?? null, batches);
    if (config.simulator) {
      const { productId, deviceName } = DEMO_DEVICE;
      const secret = (await devices.getDeviceSecret(productId, deviceName)) ?? (await devices.createDevice(productId, deviceName)).secret;
      simulator = await startSimDevice({ url: mqttUrl, productId, deviceName, secret, reply: "ok" }).catch((err: Error) => {
        log.warn("simulated device did not start", { error: err.message });
        return null;
      });
      if (simulator) log.info("simulated device online", DEMO_DEVICE);
    }
  } catch (err) {
    await brokerEvents?.stop();
    await cluster?.stop({ leave: false });
    await hub?.stop();
    await broker?.close();
    await store.close();
    throw err;
  }

  const h = hub;
  const batchRunner = batches!;
  const metrics = createMetrics({ hub: h, store, broker });
  batchRunner.onEnd((b) => metrics.countBatch(b.status));
  const pruner = setInterval(() => {
    if (store.unavailable) return;
    store.prune(config.retentionCalls).then(
      (n) => n > 0 && log.info("pruned old calls", { count: n, keep: config.retentionCalls }),
      (err: Error) => log.warn("pruning old calls failed", { error: err.message }),
    );
  }, PRUNE_EVERY_MS);
  pruner.unref();
  let stopping: Promise<void> | null = null;
  return {
    config,
    store,
    devices,
    products,
    keys,
    commands,
    batches: batchRunner,
    hub: h,
    broker,
    simulator,
    liveTokens,
    sessions,
    users,
    callerAuth: { keys, sessions, users, operator: config.operator },
    operatorSignIn: new OperatorSignIn(config.operator, sessions, users),
    metrics,
    cluster,
    fenced,
    presence,
    brokerRules,
    brokerEvents,
    stop() {
      stopping ??= (async () => {
        clearInterval(pruner);
        await simulator?.stop();
        h.interruptAll();
        await store.flush();
        await batchRunner.interruptAll();
        stopFeed();
        await brokerEvents?.stop();
        // Its work ended here: the others need not take it over.
        await cluster?.stop({ leave: true }).catch((err: Error) => log.warn("leaving the hubs failed", { error: err.message }));
        await h.stop();
        await store.close();
        await broker?.close();
        metrics.stop();
      })();
      return stopping;
    },
    stopNow() {
      const n = h.interruptAll();
      // SQLite writes here, synchronously. PostgreSQL cannot before the process ends: the calls
      // and batches left pending are ended `interrupted` by the next start (docs/storage.md).
      store.flushNow();
      void batchRunner.interruptAll();
      void store.close();
      return n;
    },
  };
}
