import type { MqttClient } from "mqtt";
import { deviceClientId, deviceRequestFilter, parseRrpcTopic, replyTopic } from "../../rrpc/topics";
import { connectMqtt, endMqtt } from "../broker/mqtt-client";
import { deviceCredentials } from "../auth/device-auth";

export type ReplyFn = (request: Buffer, processId: string) => Buffer | string;

export type SimDeviceOptions = {
  url: string;
  productId: string;
  deviceName: string;
  /** Fixed reply text, or a function of the request. Default "ok", as in Tencent's sample. */
  reply?: string | ReplyFn;
  /** Wait this long before replying. */
  delayMs?: number;
  /** Subscribe but never reply. */
  silent?: boolean;
  /** The device secret (base64): log in with Tencent's key authentication. */
  secret?: string;
  /** Extra MQTT connect options (protocol version, keepalive...). */
  protocolVersion?: 3 | 4 | 5;
};

export type SimDevice = {
  client: MqttClient;
  readonly received: number;
  readonly replied: number;
  stop(): Promise<void>;
};

/**
 * A device as Tencent's C SDK rrpc_sample behaves: client id {productId}{deviceName},
 * subscribe to $rrpc/rxd/{productId}/{deviceName}/+ at QoS 0, take the processId from the
 * last topic level and reply on $rrpc/txd/{productId}/{deviceName}/{processId} at QoS 0.
 */
export function startSimDevice(opts: SimDeviceOptions): Promise<SimDevice> {
  const { productId, deviceName } = opts;
  const reply: ReplyFn = typeof opts.reply === "function" ? opts.reply : () => (opts.reply as string | undefined) ?? "ok";
  const login = opts.secret ? deviceCredentials(productId, deviceName, opts.secret) : null;
  const client = connectMqtt(opts.url, {
    clientId: deviceClientId(productId, deviceName),
    username: login?.username,
    password: login?.password,
    protocolVersion: opts.protocolVersion ?? 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 1000,
    resubscribe: false,
  });
  let received = 0;
  let replied = 0;
  const timers = new Set<NodeJS.Timeout>();

  client.on("message", (topic, payload) => {
    const t = parseRrpcTopic(topic);
    if (!t || t.direction !== "request" || t.productId !== productId || t.deviceName !== deviceName) return;
    received++;
    if (opts.silent) return;
    const send = () => {
      client.publish(replyTopic(productId, deviceName, t.processId), reply(payload, t.processId), { qos: 0 });
      replied++;
    };
    if (opts.delayMs && opts.delayMs > 0) {
      const timer = setTimeout(() => (timers.delete(timer), send()), opts.delayMs);
      timers.add(timer);
    } else send();
  });

  return new Promise((resolve, reject) => {
    let first = true;
    client.on("connect", () => {
      client.subscribe(deviceRequestFilter(productId, deviceName), { qos: 0 }, (err, granted) => {
        const refused = err ?? (granted?.[0]?.qos === 128 ? new Error("subscription refused by the broker") : null);
        if (!first) return;
        first = false;
        if (refused) {
          void endMqtt(client, true);
          reject(refused);
          return;
        }
        resolve({
          client,
          get received() {
            return received;
          },
          get replied() {
            return replied;
          },
          async stop() {
            for (const t of timers) clearTimeout(t);
            await endMqtt(client, true);
          },
        });
      });
    });
    client.on("error", (err) => {
      if (first) {
        first = false;
        void endMqtt(client, true);
        reject(err);
      }
    });
  });
}
