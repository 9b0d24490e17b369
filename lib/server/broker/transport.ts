/**
 * How the hub reaches the broker: it publishes requests (and the live feed) and hears every
 * reply on $rrpc/txd/+/+/+. Two implementations: in-process into the embedded aedes
 * (inproc-transport.ts), MQTT.js to an external broker (mqtt-transport.ts). See
 * docs/protocol.md, "The hub's connection to the broker".
 */
export type HubTransport = {
  /** Resolves once ready, or once it has waited long enough for a connection (calls fail `broker_unavailable` meanwhile). */
  start(): Promise<void>;
  readonly ready: boolean;
  /** QoS 0, not retained, fire and forget: a request lost with the connection ends as a timeout. */
  publish(topic: string, payload: Buffer): void;
  close(): Promise<void>;
};

export type TransportEvents = {
  /** A message on a reply topic, once per message the broker accepted. */
  reply(topic: string, payload: Buffer): void;
  readyChange(ready: boolean): void;
};
