import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Socket } from "node:net";

/**
 * mqtt.connect with Nagle's algorithm off on every (re)connected TCP socket: MQTT.js never
 * calls setNoDelay, and a QoS 1 round trip then takes ~88 ms instead of ~0.5 ms
 * (docs/protocol.md, "Transport"). The socket is replaced on each reconnect, so it is set
 * again on every 'connect'.
 */
export function connectMqtt(url: string, opts: IClientOptions): MqttClient {
  // MQTT.js formats a debug line per packet even when nobody listens (~1% of the hub's CPU
  // under load); DEBUG=mqttjs* still turns its log on.
  const log = opts.log ?? (/mqttjs/.test(process.env.DEBUG ?? "") ? undefined : () => {});
  const client = mqtt.connect(url, log ? { ...opts, log } : opts);
  const noDelay = () => {
    const stream = client.stream as Partial<Socket> | undefined;
    stream?.setNoDelay?.(true);
  };
  noDelay();
  client.on("connect", noDelay);
  return client;
}

export function endMqtt(client: MqttClient, force = false): Promise<void> {
  return new Promise((resolve) => client.end(force, {}, () => resolve()));
}
