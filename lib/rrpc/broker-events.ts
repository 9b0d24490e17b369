import { z } from "zod";

/**
 * Client connect/disconnect events as EMQX and RMQTT publish them (docs/scale-out.md,
 * "Presence"): `$SYS/brokers/{node}/clients/{clientid}/connected|disconnected`, a JSON payload.
 */
export const CLIENT_EVENT_FILTERS = ["$SYS/brokers/+/clients/+/connected", "$SYS/brokers/+/clients/+/disconnected"] as const;

const EVENT_TOPIC_RE = /^\$SYS\/brokers\/[^/+#]+\/clients\/([^/+#]+)\/(connected|disconnected)$/;

/** Only what is used; anything else in the payload is ignored, a wrong type makes the event ignored. */
const payloadSchema = z.object({
  clientid: z.string().min(1).max(256).optional(),
  reason: z.string().max(256).optional(),
  ts: z.number().finite().optional(),
  connected_at: z.number().finite().optional(),
  disconnected_at: z.number().finite().optional(),
});

/**
 * Disconnect reasons that mean another connection with the same client id replaced this one:
 * the client is still connected (EMQX may publish them after the new connection's event).
 */
const REPLACED_REASONS: ReadonlySet<string> = new Set(["takenover", "takeovered", "discarded"]);

export type ClientEvent = {
  clientId: string;
  connected: boolean;
  /** Epoch ms the broker gives for the change, when it gives one. */
  at: number | null;
};

/** The event a $SYS message reports, or null (not such a topic, a malformed payload, or a replaced connection). */
export function parseClientEvent(topic: string, payload: Uint8Array): ClientEvent | null {
  const m = EVENT_TOPIC_RE.exec(topic);
  if (!m) return null;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    return null;
  }
  const p = payloadSchema.safeParse(body);
  if (!p.success) return null;
  const clientId = m[1]!;
  // The payload's client id, when present, must be the topic's: a broker bug or a forged message otherwise.
  if (p.data.clientid !== undefined && p.data.clientid !== clientId) return null;
  const connected = m[2] === "connected";
  if (!connected && p.data.reason !== undefined && REPLACED_REASONS.has(p.data.reason)) return null;
  const at = (connected ? p.data.connected_at : p.data.disconnected_at) ?? p.data.ts ?? null;
  return { clientId, connected, at };
}
