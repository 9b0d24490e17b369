/**
 * Child process for the soak: real MQTT devices that misbehave at random, per request. They
 * answer late, twice, never, for another device's processId, with garbage or 64 KiB payloads,
 * on malformed topics; they drop their connection mid-call (cleanly or by writing garbage bytes
 * into the socket) and rejoin. Each device logs in with Tencent key authentication when given
 * its secret (the production broker refuses unknown devices).
 */
import type { MqttClient } from "mqtt";
import { randomBytes } from "node:crypto";
import { deviceClientId, deviceRequestFilter, parseRrpcTopic, replyTopic, RRPC_PREFIX, REPLY_DIR } from "../lib/rrpc/topics";
import { deviceCredentials } from "../lib/server/auth/device-auth";
import { connectMqtt, endMqtt } from "../lib/server/broker/mqtt-client";
import { inBatches } from "./common";
import { serve } from "./proc";

export const BEHAVIOURS = {
  /** Answer at once with the request's bytes. */
  echo: 40,
  /** Answer after 0–150 ms (usually in time). */
  slow: 8,
  /** Answer after the longest deadline has passed: timeout, then late_reply. */
  late: 6,
  /** Answer twice: success, then duplicate_reply. */
  twice: 6,
  /** Never answer: timeout. */
  silent: 6,
  /** Send a reply carrying another device's processId on its own topic (foreign_reply there), then answer. */
  foreign: 5,
  /** Answer on another device's reply topic (the broker's ACL drops it, or foreign_reply), then answer properly. */
  impostor: 3,
  /** Answer with 1–512 random bytes. */
  garbage: 6,
  /** Answer with 16–64 KiB of random bytes (over the soak's RRPC_MAX_REPLY about half the time). */
  huge: 3,
  /** Publish on malformed reply topics (…/notanumber, missing or extra levels), then maybe answer. */
  badTopic: 6,
  /** Drop the connection mid-call, rejoin after 20–400 ms, then answer (in time or late). */
  rejoin: 6,
  /** Write bytes that are no MQTT packet into the socket (the broker drops the connection), rejoin. */
  protocolGarbage: 2,
  /** Answer with an empty payload. */
  empty: 3,
} as const;
export type Behaviour = keyof typeof BEHAVIOURS;

export type FleetOptions = {
  url: string;
  productId: string;
  names: string[];
  /** Device secrets (base64), by index of `names`; omitted: connect without credentials. */
  secrets?: (string | null)[];
  /** Devices that connect but never subscribe (not_subscribed). */
  unsubscribed?: { name: string; secret: string | null }[];
  /** `late` answers after this many ms (more than the longest timeout). */
  lateMs: number;
  seed: number;
};

export type FleetStats = {
  requests: number;
  behaviours: Record<string, number>;
  replies: number;
  reconnects: number;
  connectFailures: number;
};

/** mulberry32: a small seeded PRNG, so a soak's sequence of misbehaviours can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let random = prng(1);
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const stats: FleetStats = { requests: 0, behaviours: {}, replies: 0, reconnects: 0, connectFailures: 0 };
const devices: Device[] = [];
/** Recent requests of every device of this process: material for `foreign` replies. */
const recent: { deviceName: string; processId: string }[] = [];
const RECENT = 256;

const weighted = Object.entries(BEHAVIOURS) as [Behaviour, number][];
const totalWeight = weighted.reduce((s, [, w]) => s + w, 0);
function pick(): Behaviour {
  let r = random() * totalWeight;
  for (const [b, w] of weighted) if ((r -= w) < 0) return b;
  return "echo";
}

class Device {
  private client: MqttClient | null = null;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly o: FleetOptions,
    readonly name: string,
    private readonly secret: string | null,
    private readonly subscribe = true,
  ) {}

  /** Connects (and subscribes); resolves when ready or when the first attempt failed (it retries). */
  connect(): Promise<void> {
    return new Promise((resolve) => {
      const { productId } = this.o;
      const login = this.secret ? deviceCredentials(productId, this.name, this.secret) : null;
      const c = connectMqtt(this.o.url, {
        clientId: deviceClientId(productId, this.name),
        username: login?.username,
        password: login?.password,
        clean: true,
        keepalive: 30,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      this.client = c;
      c.on("message", (topic, payload) => this.onRequest(topic, payload));
      c.on("error", () => {}); // refused logins, resets after protocol garbage: 'close' follows
      c.once("close", () => {
        if (this.client === c) {
          this.client = null;
          this.later(between(50, 300), () => void this.rejoin());
        }
        resolve();
      });
      c.once("connect", () => {
        if (!this.subscribe) return resolve();
        c.subscribe(deviceRequestFilter(productId, this.name), { qos: 0 }, () => resolve());
      });
    });
  }

  private async rejoin(): Promise<void> {
    if (this.stopped || this.client) return;
    stats.reconnects++;
    await this.connect();
    if (!this.client) stats.connectFailures++;
  }

  /** Drops the connection now; `rejoin` brings it back after a while. */
  private drop(how: "end" | "garbage"): void {
    const c = this.client;
    if (!c) return;
    this.client = null;
    if (how === "garbage") {
      // Packet type 0 is reserved (MQTT 3.1.1 §2.2.1): the broker must close the connection.
      c.stream.write(Buffer.concat([Buffer.from([0x00, 0x7f]), randomBytes(between(1, 64))]));
      this.later(200, () => void endMqtt(c, true));
    } else {
      void endMqtt(c, true);
    }
    this.later(between(20, 400), () => void this.rejoin());
  }

  private publish(topic: string, payload: Buffer | string): void {
    if (!this.client) return;
    this.client.publish(topic, payload, { qos: 0 });
    stats.replies++;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private onRequest(topic: string, payload: Buffer): void {
    const t = parseRrpcTopic(topic);
    const { productId } = this.o;
    if (!t || t.direction !== "request" || t.productId !== productId || t.deviceName !== this.name) return;
    stats.requests++;
    const behaviour = pick();
    stats.behaviours[behaviour] = (stats.behaviours[behaviour] ?? 0) + 1;
    const reply = replyTopic(productId, this.name, t.processId);
    const answer = (body: Buffer | string = payload) => this.publish(reply, body);
    const other = recent[between(0, Math.max(0, recent.length - 1))];
    recent.push({ deviceName: this.name, processId: t.processId });
    if (recent.length > RECENT) recent.shift();

    switch (behaviour) {
      case "echo":
        return answer();
      case "slow":
        return this.later(between(0, 150), () => answer());
      case "late":
        return this.later(this.o.lateMs + between(0, 200), () => answer());
      case "twice":
        answer();
        return this.later(between(0, 50), () => answer());
      case "silent":
        return;
      case "foreign":
        if (other && other.deviceName !== this.name) this.publish(replyTopic(productId, this.name, other.processId), "not yours");
        return this.later(between(0, 20), () => answer());
      case "impostor":
        if (other && other.deviceName !== this.name) this.publish(replyTopic(productId, other.deviceName, t.processId), "impostor");
        return this.later(between(0, 20), () => answer());
      case "garbage":
        return answer(randomBytes(between(1, 512)));
      case "huge":
        return answer(randomBytes(between(16 * 1024, 64 * 1024)));
      case "empty":
        return answer(Buffer.alloc(0));
      case "badTopic": {
        const base = `${RRPC_PREFIX}/${REPLY_DIR}/${productId}/${this.name}`;
        const topics = [
          `${base}/notanumber`,
          base,
          `${base}/${t.processId}/extra`,
          `${base}/0${t.processId}`,
          `${base}/-1`,
          `${base}/${"9".repeat(17)}`,
        ];
        this.publish(topics[between(0, topics.length - 1)]!, randomBytes(between(0, 64)));
        if (random() < 0.5) answer();
        return;
      }
      case "rejoin":
        this.drop("end");
        return this.later(between(30, 600), () => answer());
      case "protocolGarbage":
        return this.drop("garbage");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const c = this.client;
    this.client = null;
    if (c) await endMqtt(c, true);
  }
}

const api = {
  async start(o: FleetOptions): Promise<{ connected: number }> {
    random = prng(o.seed);
    const all = [
      ...o.names.map((name, i) => new Device(o, name, o.secrets?.[i] ?? null)),
      ...(o.unsubscribed ?? []).map((d) => new Device(o, d.name, d.secret, false)),
    ];
    devices.push(...all);
    await inBatches(all.length, 100, (i) => all[i]!.connect());
    return { connected: all.length };
  },
  /** Stops every device (no more replies, late or not) and reports what they did. */
  async stop(): Promise<FleetStats> {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
    return stats;
  },
  stats: () => stats,
};
export type MisbehavingDevicesApi = typeof api;

serve(api, () => api.stop().then(() => undefined));
