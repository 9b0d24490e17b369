import type { Health } from "../../rrpc/api";
import { DEMO_DEVICE, type Runtime } from "./runtime";

/** Whether the hub can make calls (connected to its broker, able to record them), and what it runs. */
export function health(rt: Runtime): Health {
  const storeError = rt.store.unavailable;
  return {
    ok: rt.hub.isReady && storeError === null,
    broker: rt.broker ? "embedded" : "external",
    brokerConnected: rt.hub.isReady,
    store: storeError === null ? { writable: true } : { writable: false, error: storeError },
    inFlight: rt.hub.inFlight,
    replies: {
      stray: rt.hub.counters.strayReplies,
      foreign: rt.hub.counters.foreignReplies,
      late: rt.hub.counters.lateReplies,
      duplicate: rt.hub.counters.duplicateReplies,
      unrecorded: rt.hub.counters.unrecordedReplies,
    },
    mqtt: rt.broker ? { tcpPort: rt.broker.tcpPort, wsPort: rt.broker.wsPort, wsPath: "/mqtt" } : null,
    simulator: rt.simulator ? DEMO_DEVICE : null,
  };
}
