import type { Health } from "../../rrpc/api";
import { DEMO_DEVICE, type Runtime } from "./runtime";

/** Whether the hub can make calls (connected to its broker), and what it runs. */
export function health(rt: Runtime): Health {
  return {
    ok: rt.hub.isReady,
    broker: rt.broker ? "embedded" : "external",
    brokerConnected: rt.hub.isReady,
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
