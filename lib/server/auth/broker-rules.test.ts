/**
 * One rule table (broker-rules.cases.ts), two transports: the embedded broker's aedes hooks over
 * real MQTT.js connections, and the HTTP hooks an external broker calls, posted as EMQX 5 renders
 * its body templates (docs/scale-out.md) to a hub whose MQTT_URL is a real Mosquitto.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import type { AedesPublishPacket, Client } from "aedes";
import { startEmbeddedBroker, type EmbeddedBroker } from "../broker/embedded";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { DeviceRegistry } from "../devices/registry";
import { Store } from "../store/store";
import { SqliteCallStore } from "../store/call-store";
import { HUB_CLIENT_PREFIX } from "../calls/hub";
import { LIVE_CLIENT_PREFIX } from "../live/access";
import { startMosquitto, tempDir, waitFor, type Mosquitto } from "../testing/servers";
import { startInProcessHub, type InProcessHub } from "../testing/hub";
import { EMQX_AUTHN_BODY, EMQX_AUTHZ_BODY, postHook, renderTemplate } from "../testing/emqx";
import { brokerAccess } from "./broker-acl";
import { sharedBrokerKeys } from "./broker-hooks";
import { HUB_USERNAME, LIVE_USERNAME } from "./broker-rules";
import { deviceCredentials } from "./device-auth";
import { TokenSigner } from "./tokens";
import {
  LOGIN_CASES,
  RULES_DEVICES,
  RULES_PRODUCT,
  TOPIC_CASES,
  type LoginInput,
  type RulesFixture,
  type TopicCase,
  type Who,
} from "./broker-rules.cases";

type Transport = {
  fixture: RulesFixture;
  /** 0 when the client is let in; otherwise the CONNACK code, or "deny" where the transport has none. */
  login(input: LoginInput): Promise<number | "deny">;
  allows(c: TopicCase): Promise<boolean>;
};

async function fixtureFor(registry: DeviceRegistry, liveTokens: TokenSigner, hubPassword: string): Promise<RulesFixture> {
  const secrets = new Map<string, string>();
  for (const d of RULES_DEVICES)
    secrets.set(d, (await registry.getDeviceSecret(RULES_PRODUCT, d)) ?? (await registry.createDevice(RULES_PRODUCT, d)).secret);
  if (!(await registry.deviceAuthRecord(RULES_PRODUCT, "off"))!.disabled) await registry.setDisabled(RULES_PRODUCT, "off", true);
  return {
    secretOf: (d) => secrets.get(d) ?? Buffer.from("an unregistered device").toString("base64"),
    liveToken: (ttl) => liveTokens.sign("live", ttl).token,
    foreignLiveToken: () => new TokenSigner().sign("live", 60_000).token,
    hubPassword,
    hubClientId: `${HUB_CLIENT_PREFIX}rules`,
    liveClientId: `${LIVE_CLIENT_PREFIX}rules`,
  };
}

/** Whom each topic case acts as, logged in as the login table's allowed cases do. */
function loginOf(who: Who, f: RulesFixture): LoginInput {
  if (who === "hub") return { clientId: f.hubClientId, username: HUB_USERNAME, password: f.hubPassword };
  if (who === "live") return { clientId: f.liveClientId, username: LIVE_USERNAME, password: f.liveToken(60_000) };
  return deviceCredentials(RULES_PRODUCT, "alpha", f.secretOf("alpha"));
}

function runTable(name: string, transport: () => Transport) {
  describe(name, () => {
    it.each(LOGIN_CASES.map((c) => [c.name, c] as const))("login: %s", async (_name, c) => {
      const t = transport();
      const got = await t.login(c.login(t.fixture));
      if (got === "deny") expect(c.connack).not.toBe(0);
      else expect(got).toBe(c.connack);
    });

    it.each(TOPIC_CASES.map((c) => [`${c.who} ${c.action} ${c.topic}`, c] as const))("%s", async (_name, c) => {
      expect(await transport().allows(c)).toBe(c.allow);
    });
  });
}

// ---- The embedded broker: aedes hooks, real MQTT ----

let store: Store;
let broker: EmbeddedBroker;
let embedded: Transport;
const clients = new Map<Who, MqttClient>();
/** What aedes did with each publish, by payload: the topic it went on (the dropped topic when refused). */
const published = new Map<string, string>();

/** The CONNACK return code, or 0 once connected. */
async function connack(url: string, input: LoginInput): Promise<number> {
  const c = connectMqtt(url, { ...input, protocolVersion: input.protocolVersion ?? 4, reconnectPeriod: 0 });
  try {
    return await new Promise<number>((resolve) => {
      c.once("connect", () => resolve(0));
      c.once("error", (err) => resolve(Number((err as Error & { code?: number }).code)));
    });
  } finally {
    await endMqtt(c, true);
  }
}

beforeAll(async () => {
  store = new Store(join(tempDir(), "rules.db"));
  const registry = new DeviceRegistry(new SqliteCallStore(store).sql);
  const liveTokens = new TokenSigner();
  const hubPassword = "embedded-hub-password-for-the-rule-table";
  const access = brokerAccess({ registry, liveTokens, hubClientPrefix: HUB_CLIENT_PREFIX, liveClientPrefix: LIVE_CLIENT_PREFIX, hubPassword });
  broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver: access.isObserver }, access.hooks);
  broker.aedes.on("publish", (packet: AedesPublishPacket, client: Client | null) => {
    if (client) published.set(packet.payload.toString(), packet.topic);
  });
  const url = `mqtt://127.0.0.1:${broker.tcpPort}`;
  const fixture = await fixtureFor(registry, liveTokens, hubPassword);
  const clientOf = async (who: Who) => {
    let c = clients.get(who);
    if (!c) {
      c = connectMqtt(url, { ...loginOf(who, fixture), reconnectPeriod: 0 });
      clients.set(who, c);
      await new Promise<void>((resolve, reject) => c!.once("connect", () => resolve()).once("error", reject));
    }
    return c;
  };
  let n = 0;
  embedded = {
    fixture,
    login: (input) => connack(url, input),
    async allows(c) {
      const client = await clientOf(c.who);
      if (c.action === "subscribe") {
        const qos = await new Promise<number>((resolve, reject) =>
          client.subscribe(c.topic, { qos: 0 }, (err, granted) => {
            if (err && "packet" in err) return resolve(128); // MQTT.js reports a refused filter as an error
            if (err) return reject(err);
            resolve(granted?.[0]?.qos ?? -1);
          }),
        );
        // Leave no subscription behind: one case's must not answer for another's.
        if (qos !== 128) await client.unsubscribeAsync(c.topic);
        return qos !== 128;
      }
      const id = `publish ${++n}`;
      await client.publishAsync(c.topic, id, { qos: 1 });
      const topic = await waitFor(() => published.get(id), `aedes to handle ${id}`);
      return topic === c.topic;
    },
  };
});

afterAll(async () => {
  for (const c of clients.values()) await endMqtt(c, true);
  await broker?.close();
  store?.close();
});

runTable("the rule table over the embedded broker (aedes hooks)", () => embedded);

// ---- The HTTP hooks, called as EMQX 5 calls them ----

const SECRET = "hook-secret-for-the-rules-test-0123456789";
let mosquitto: Mosquitto;
let hub: InProcessHub;
let overHttp: Transport;

beforeAll(async () => {
  mosquitto = await startMosquitto();
  hub = await startInProcessHub({ MQTT_URL: mosquitto.url, RRPC_BROKER_HOOK_SECRET: SECRET });
  const fixture = await fixtureFor(hub.rt.devices, hub.rt.liveTokens, sharedBrokerKeys(SECRET).hubPassword);
  const authn = async (input: LoginInput) =>
    (
      await postHook(
        hub.url,
        "authn",
        renderTemplate(EMQX_AUTHN_BODY, { clientid: input.clientId, username: input.username, password: input.password }),
        SECRET,
      )
    ).result;
  overHttp = {
    fixture,
    login: async (input) => ((await authn(input)) === "allow" ? 0 : "deny"),
    async allows(c) {
      const who = loginOf(c.who, fixture);
      // The broker asks about clients it let in only.
      expect(await authn(who)).toBe("allow");
      const body = renderTemplate(EMQX_AUTHZ_BODY, {
        clientid: who.clientId,
        username: who.username,
        topic: c.topic,
        action: c.action,
        retain: c.action === "publish" ? "false" : undefined,
      });
      return (await postHook(hub.url, "authz", body, SECRET)).result === "allow";
    },
  };
});

afterAll(async () => {
  await hub?.stop();
  await mosquitto?.stop();
});

runTable("the rule table over the HTTP hooks (EMQX-shaped requests)", () => overHttp);
