import type { MqttClient } from "mqtt";
import { ALL_REPLIES_FILTER } from "../../rrpc/topics";
import { log } from "../core/log";
import { connectMqtt, endMqtt } from "./mqtt-client";
import type { HubTransport, TransportEvents } from "./transport";

export type MqttTransportOptions = {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** How long start() waits for the first connection before resolving anyway. */
  connectWaitMs: number;
};

/** The hub on an external broker: one MQTT.js connection, reconnecting by itself, subscribed to every reply. */
export function mqttTransport(o: MqttTransportOptions, events: TransportEvents): HubTransport {
  let client: MqttClient | null = null;
  let ready = false;
  let closing = false;
  const setReady = (r: boolean) => {
    if (ready === r) return;
    ready = r;
    if (!r && !closing) log.warn("hub lost its broker connection; reconnecting", { url: redactUrl(o.url) });
    events.readyChange(r);
  };

  return {
    get ready() {
      return ready;
    },
    async start() {
      const c = connectMqtt(o.url, {
        clientId: o.clientId,
        username: o.username,
        password: o.password,
        clean: true,
        keepalive: 30,
        reconnectPeriod: 1000,
        connectTimeout: 5000,
        resubscribe: false,
        queueQoSZero: false,
        // A broker whose login hook cannot answer yet refuses the login: try again (docs/scale-out.md).
        reconnectOnConnackError: true,
      });
      client = c;
      let connected = () => {};
      c.on("connect", () => {
        c.subscribe(ALL_REPLIES_FILTER, { qos: 0 }, (err, granted) => {
          if (err || granted?.[0]?.qos === 128) {
            log.error("hub cannot subscribe to replies", { error: err?.message ?? "refused" });
            return;
          }
          setReady(true);
          log.info("hub connected to broker", { url: redactUrl(o.url) });
          connected();
        });
      });
      c.on("close", () => setReady(false));
      c.on("error", (err) => log.warn("hub mqtt error", { error: err.message }));
      c.on("message", (topic, payload) => events.reply(topic, payload));

      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          log.warn("hub started without a broker connection; calls fail with broker_unavailable until it connects", { url: redactUrl(o.url) });
          resolve();
        }, o.connectWaitMs);
        connected = () => {
          clearTimeout(t);
          resolve();
        };
      });
    },
    // No callback: under backpressure MQTT.js adds a 'drain' listener per publish that has one
    // (~6% of the hub's CPU at 1,000 in flight, npm run bench).
    publish(topic, payload) {
      client?.publish(topic, payload, { qos: 0 });
    },
    async close() {
      closing = true;
      setReady(false);
      if (client) await endMqtt(client, true);
      client = null;
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid url)";
  }
}
