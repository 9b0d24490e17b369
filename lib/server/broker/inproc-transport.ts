import type { Aedes, AedesPublishPacket } from "aedes";
import { ALL_REPLIES_FILTER } from "../../rrpc/topics";
import { log } from "../core/log";
import type { HubTransport, TransportEvents } from "./transport";

const noop = () => {};

/**
 * The hub inside the embedded broker's process: requests go straight into aedes's publish
 * pipeline and replies come from aedes's own message bus, with no MQTT connection, encoding or
 * parsing on the hub's side (docs/protocol.md, "The hub's connection to the broker").
 *
 * Every rule stays where it was: devices' publishes pass authorizePublish before they reach the
 * bus (a refused reply is renamed and never matches), requests reach devices through each
 * client's delivery (authorizeForward: the `delivered` hop; the slow-reader limit), and the
 * listener is the one aedes would add for a client's subscription to the same filter, so each
 * reply is heard once.
 */
export function inProcessTransport(aedes: Aedes, events: TransportEvents): HubTransport {
  let ready = false;
  let closing = false;
  const setReady = (r: boolean) => {
    if (ready === r) return;
    ready = r;
    if (!r && !closing) log.warn("the embedded broker closed under the hub");
    events.readyChange(r);
  };
  const onClosed = () => setReady(false);
  const deliver = (packet: AedesPublishPacket, done: () => void) => {
    // A throw here would unwind into aedes's delivery of the device's message.
    try {
      const p = packet.payload;
      events.reply(packet.topic, typeof p === "string" ? Buffer.from(p) : p);
    } catch (err) {
      log.error("hub failed on a reply", { topic: packet.topic, error: (err as Error).message });
    }
    done();
  };

  return {
    get ready() {
      return ready;
    },
    start() {
      return new Promise<void>((resolve) => {
        if (aedes.closed) {
          log.warn("hub started on a closed embedded broker; calls fail with broker_unavailable");
          return resolve();
        }
        aedes.once("closed", onClosed);
        aedes.subscribe(ALL_REPLIES_FILTER, deliver, () => {
          if (!closing && !aedes.closed) {
            setReady(true);
            log.info("hub attached to the embedded broker in-process");
          }
          resolve();
        });
      });
    },
    publish(topic, payload) {
      // From the broker itself (no client): no authorizePublish, as for the hub's own login before.
      aedes.publish({ cmd: "publish", topic, payload, qos: 0, retain: false, dup: false }, noop);
    },
    close() {
      closing = true;
      setReady(false);
      aedes.off("closed", onClosed);
      if (aedes.closed) return Promise.resolve();
      return new Promise<void>((resolve) => aedes.unsubscribe(ALL_REPLIES_FILTER, deliver, resolve));
    },
  };
}
