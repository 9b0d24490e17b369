/**
 * The broker rules as one table (broker-rules.ts), driven through both transports by
 * broker-rules.test.ts: the embedded broker's aedes hooks over real MQTT, and the HTTP hooks an
 * external broker calls. Each transport builds the fixture from its own registry and hub login.
 */
import { createHmac } from "node:crypto";
import { deviceCredentials } from "./device-auth";
import { HUB_USERNAME, LIVE_USERNAME } from "./broker-rules";

export const RULES_PRODUCT = "RULESP0001";
/** Registered and enabled, except `off` (disabled). `ghost` is never registered. */
export const RULES_DEVICES = ["alpha", "beta", "off"] as const;

export type RulesFixture = {
  secretOf(deviceName: string): string;
  /** A live-view token the transport's hub signed, valid for ttlMs (negative: already expired). */
  liveToken(ttlMs: number): string;
  /** A token signed with a key no hub has. */
  foreignLiveToken(): string;
  hubPassword: string;
  hubClientId: string;
  liveClientId: string;
};

export type LoginInput = { clientId: string; username?: string; password?: string; protocolVersion?: 3 | 4 };

export type LoginCase = {
  name: string;
  login(f: RulesFixture): LoginInput;
  /** 0: connects; 4 or 5: the MQTT 3.1.1 CONNACK refusal the embedded broker answers (the HTTP hook: deny). */
  connack: 0 | 4 | 5;
};

const P = RULES_PRODUCT;
const device = (name: string, f: RulesFixture, opts: Parameters<typeof deviceCredentials>[3] = {}) =>
  deviceCredentials(P, name, f.secretOf(name), opts);
const sign = (alg: "sha1" | "sha256", secret: string, username: string) =>
  createHmac(alg, Buffer.from(secret, "base64")).update(username).digest("hex") + `;hmac${alg}`;

export const LOGIN_CASES: LoginCase[] = [
  { name: "device, HMAC-SHA256, never expires", login: (f) => device("alpha", f), connack: 0 },
  {
    name: "device, HMAC-SHA1, expiry ahead",
    login: (f) => device("alpha", f, { algorithm: "hmacsha1", expiry: Date.now() / 1000 + 3600 }),
    connack: 0,
  },
  {
    name: "device, Python SDK (MQTT 3.1, millisecond timestamp in the past)",
    login: (f) => {
      const username = `${P}beta;21010406;aB3dE;${Date.now() - 3_600_000}`;
      return { clientId: `${P}beta`, username, password: sign("sha1", f.secretOf("beta"), username), protocolVersion: 3 };
    },
    connack: 0,
  },
  { name: "device, wrong secret", login: (f) => ({ ...device("alpha", f), password: device("beta", f).password }), connack: 4 },
  {
    name: "device, unregistered",
    login: (f) => deviceCredentials(P, "ghost", f.secretOf("alpha")),
    connack: 4,
  },
  { name: "device, expired credentials", login: (f) => device("alpha", f, { expiry: Date.now() / 1000 - 10 }), connack: 4 },
  { name: "device, disabled", login: (f) => device("off", f), connack: 5 },
  {
    name: "device, username of another client id",
    login: (f) => ({ ...device("alpha", f), clientId: `${P}beta` }),
    connack: 5,
  },
  { name: "device, malformed password", login: (f) => ({ ...device("alpha", f), password: "not-a-signature" }), connack: 4 },
  { name: "anonymous", login: () => ({ clientId: "anyone" }), connack: 4 },
  { name: "hub, its password", login: (f) => ({ clientId: f.hubClientId, username: HUB_USERNAME, password: f.hubPassword }), connack: 0 },
  { name: "hub, a guessed password", login: (f) => ({ clientId: f.hubClientId, username: HUB_USERNAME, password: "guess" }), connack: 4 },
  {
    name: "hub password from a client id that is not the hub's",
    login: (f) => ({ clientId: `${P}alpha`, username: HUB_USERNAME, password: f.hubPassword }),
    connack: 4,
  },
  {
    name: "live view, valid token",
    login: (f) => ({ clientId: f.liveClientId, username: LIVE_USERNAME, password: f.liveToken(60_000) }),
    connack: 0,
  },
  { name: "live view, expired token", login: (f) => ({ clientId: f.liveClientId, username: LIVE_USERNAME, password: f.liveToken(-1) }), connack: 4 },
  {
    name: "live view, token signed by someone else",
    login: (f) => ({ clientId: f.liveClientId, username: LIVE_USERNAME, password: f.foreignLiveToken() }),
    connack: 4,
  },
  {
    name: "live token from a device's client id",
    login: (f) => ({ clientId: `${P}alpha`, username: LIVE_USERNAME, password: f.liveToken(60_000) }),
    connack: 4,
  },
];

export type Who = "hub" | "live" | "alpha";
export type TopicCase = { who: Who; action: "subscribe" | "publish"; topic: string; allow: boolean };

const sub = (who: Who, topic: string, allow: boolean): TopicCase => ({ who, action: "subscribe", topic, allow });
const pub = (who: Who, topic: string, allow: boolean): TopicCase => ({ who, action: "publish", topic, allow });

export const TOPIC_CASES: TopicCase[] = [
  sub("alpha", `$rrpc/rxd/${P}/alpha/+`, true),
  sub("alpha", `${P}/alpha/#`, true),
  sub("alpha", `$rrpc/rxd/${P}/beta/+`, false),
  sub("alpha", `$rrpc/rxd/${P}/+/+`, false),
  sub("alpha", `$rrpc/txd/#`, false),
  sub("alpha", `#`, false),
  sub("alpha", `${P}/beta/#`, false),
  sub("alpha", `$SYS/brokers/+/clients/+/connected`, false),
  pub("alpha", `$rrpc/txd/${P}/alpha/1000000001`, true),
  pub("alpha", `${P}/alpha/status`, true),
  pub("alpha", `$rrpc/txd/${P}/beta/1000000001`, false),
  pub("alpha", `$rrpc/rxd/${P}/beta/1000000001`, false),
  pub("alpha", `${P}/beta/status`, false),
  pub("alpha", `rrpc-hub/live`, false),
  sub("hub", `$rrpc/txd/+/+/+`, true),
  sub("hub", `$SYS/brokers/+/clients/+/connected`, true),
  sub("hub", `$SYS/brokers/+/clients/+/disconnected`, true),
  sub("hub", `$SYS/#`, false),
  sub("hub", `$rrpc/rxd/#`, false),
  sub("hub", `${P}/alpha/#`, false),
  pub("hub", `$rrpc/rxd/${P}/alpha/1000000002`, true),
  pub("hub", `rrpc-hub/live`, true),
  pub("hub", `$rrpc/txd/${P}/alpha/1000000002`, false),
  pub("hub", `${P}/alpha/status`, false),
  sub("live", `$rrpc/rxd/#`, true),
  sub("live", `$rrpc/txd/#`, true),
  sub("live", `rrpc-hub/#`, true),
  sub("live", `${P}/alpha/#`, false),
  pub("live", `$rrpc/rxd/${P}/alpha/1000000003`, false),
  pub("live", `rrpc-hub/live`, false),
];
