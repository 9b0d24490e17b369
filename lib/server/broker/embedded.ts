import { Aedes, type AedesOptions, type Client } from "aedes";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import type { Writable } from "node:stream";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { WebSocketServer, createWebSocketStream } from "ws";
import { QlobberDedup } from "qlobber";
import { DEVICE_NAME_MAX, deviceClientId, parseRrpcTopic, PRODUCT_ID_MAX } from "../../rrpc/topics";
import { log } from "../core/log";
import { limitPacketSize } from "./packet-limit";
import { oneFramePerTurn } from "./ws-frames";
import { LISTEN_BACKLOG } from "../core/net";

export type BrokerOptions = {
  host: string;
  port: number;
  wsHost: string;
  wsPort: number;
  /** Clients that watch RRPC traffic without being devices (the hub, live dashboards). */
  isObserver: (client: Client) => boolean;
  /** The largest MQTT packet a client may send; a larger one closes its connection before it is read. */
  maxPacketBytes?: number;
  /** Bytes waiting to be sent to one client before it is disconnected as too slow a reader. */
  maxOutgoingBytes?: number;
  /** Whether a WebSocket upgrade may proceed (its Host and Origin); all may when absent. */
  acceptWebSocket?: (req: IncomingMessage) => boolean;
};

export const DEFAULT_MAX_PACKET_BYTES = 2 * 1024 * 1024;
export const DEFAULT_MAX_OUTGOING_BYTES = 8 * 1024 * 1024;

/**
 * aedes holds its delivery pipeline until a full socket drains (up to drainTimeout, 60 s): one
 * subscriber that stops reading then stalls every publish to everyone. Here a write to a full
 * socket is buffered and the pipeline goes on; a client with more than `maxBytes` waiting is
 * disconnected. A slow reader costs only itself (and at most `maxBytes` of memory).
 */
function neverWaitForDrain(client: Client, maxBytes: number): Client {
  const c = client as Client & { conn: Writable; waitForDrain(done: (err: Error | null, client: Client) => void): void };
  c.waitForDrain = (done) => {
    if (c.conn.writableLength > maxBytes) {
      log.warn("MQTT client reads too slowly: disconnected", { clientId: c.id, waitingBytes: c.conn.writableLength });
      c.conn.destroy();
      setImmediate(done, new Error("outgoing queue full"), c);
    } else setImmediate(done, null, c);
  };
  return client;
}

/** What the embedded broker can say about a request before it is published. */
export type Route = "deliverable" | "offline" | "not_subscribed";

export type DeliveredListener = (processId: string, productId: string, deviceName: string) => void;
export type DeviceRef = { productId: string; deviceName: string };
export type PresenceListener = (device: DeviceRef, online: boolean) => void;

export type EmbeddedBroker = {
  aedes: Aedes;
  tcpPort: number;
  wsPort: number;
  route(topic: string, productId: string, deviceName: string): Route;
  onDelivered(listener: DeliveredListener): void;
  /** A device is online while some client is subscribed to its request filter $rrpc/rxd/{P}/{D}/+. */
  onPresence(listener: PresenceListener): void;
  onlineDevices(): DeviceRef[];
  /** Closes the connections of the clients that match; returns how many. */
  closeClients(match: (client: Client) => boolean): number;
  close(): Promise<void>;
};

const DEVICE_FILTER_RE = /^\$rrpc\/rxd\/([^/+#]+)\/([^/+#]+)\/\+$/;
const MQTT_MATCHING = { separator: "/", wildcard_one: "+", wildcard_some: "#", match_empty_levels: true };

/**
 * aedes with a TCP listener (no-delay: docs/protocol.md, "Transport") and a WebSocket listener on /mqtt.
 * It also indexes every subscription of a non-observer client, so that "would anyone
 * receive this request?" is answered synchronously before the hub publishes.
 */
export async function startEmbeddedBroker(opts: BrokerOptions, hooks: Partial<AedesOptions> = {}): Promise<EmbeddedBroker> {
  const deliveredListeners: DeliveredListener[] = [];
  const presenceListeners: PresenceListener[] = [];
  // device key "P/D" → number of clients subscribed to its request filter
  const online = new Map<string, number>();
  const presence = (filter: string, delta: 1 | -1) => {
    const m = DEVICE_FILTER_RE.exec(filter);
    if (!m) return;
    const key = `${m[1]}/${m[2]}`;
    const before = online.get(key) ?? 0;
    const after = before + delta;
    if (after <= 0) online.delete(key);
    else online.set(key, after);
    if ((before === 0) !== after <= 0) {
      for (const l of presenceListeners) l({ productId: m[1]!, deviceName: m[2]! }, after > 0);
    }
  };

  const aedes = await Aedes.createBroker({
    ...hooks,
    // aedes keeps MQTT 3.1's 23-character client-id limit, which refuses most Tencent devices
    // on MQTT 3.1 (the Python SDK's): their id is product and device name joined
    // (docs/protocol.md, "Device login").
    maxClientsIdLength: PRODUCT_ID_MAX + DEVICE_NAME_MAX,
    // Called once per subscriber right before a message is written to its connection:
    // the "delivered" hop of a call's trace.
    authorizeForward(client, packet) {
      const forwarded = hooks.authorizeForward ? hooks.authorizeForward(client, packet) : packet;
      if (forwarded && deliveredListeners.length > 0 && packet.topic.startsWith("$rrpc/rxd/") && !opts.isObserver(client)) {
        const t = parseRrpcTopic(packet.topic);
        if (t) for (const l of deliveredListeners) l(t.processId, t.productId, t.deviceName);
      }
      return forwarded;
    },
  });

  // MQTT 3.1.1 §4.7.2: filters starting with a wildcard do not match topics starting with '$',
  // and only '$rrpc/...' topics are ever looked up, so such filters are not indexed.
  const subs = new QlobberDedup<Client>(MQTT_MATCHING);
  const filtersByClient = new Map<Client, Set<string>>();
  aedes.on("subscribe", (subscriptions, client) => {
    if (!client || opts.isObserver(client)) return;
    for (const s of subscriptions) {
      if ((s.qos as number) === 128 || !s.topic.startsWith("$")) continue;
      let set = filtersByClient.get(client);
      if (!set) filtersByClient.set(client, (set = new Set()));
      if (set.has(s.topic)) continue;
      set.add(s.topic);
      subs.add(s.topic, client);
      presence(s.topic, 1);
    }
  });
  aedes.on("unsubscribe", (topics, client) => {
    const set = client && filtersByClient.get(client);
    if (!set) return;
    for (const topic of topics) {
      if (set.delete(topic)) {
        subs.remove(topic, client);
        presence(topic, -1);
      }
    }
  });
  aedes.on("clientDisconnect", (client) => {
    const set = filtersByClient.get(client);
    if (!set) return;
    filtersByClient.delete(client);
    for (const topic of set) {
      subs.remove(topic, client);
      presence(topic, -1);
    }
  });
  aedes.on("clientError", (client, err) => log.debug("mqtt client error", { clientId: client.id, error: err.message }));
  aedes.on("connectionError", (_client, err) => log.debug("mqtt connection error", { error: err.message }));

  const maxPacket = opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const refused = (transport: string, remote: string | undefined) => () =>
    log.warn("MQTT packet over the size limit: connection closed", { transport, remote, maxPacketBytes: maxPacket });
  const maxOutgoing = opts.maxOutgoingBytes ?? DEFAULT_MAX_OUTGOING_BYTES;
  const tcp: NetServer = createNetServer({ noDelay: true }, (socket) =>
    neverWaitForDrain(aedes.handle(limitPacketSize(socket, maxPacket, refused("tcp", socket.remoteAddress))), maxOutgoing),
  );
  const http: HttpServer = createHttpServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("MQTT over WebSocket: connect to /mqtt\n");
  });
  const accept = opts.acceptWebSocket;
  const wss = new WebSocketServer({
    server: http,
    path: "/mqtt",
    verifyClient: accept ? (info: { req: IncomingMessage }) => accept(info.req) : undefined,
  });
  wss.on("connection", (ws, req) => {
    const stream = oneFramePerTurn(createWebSocketStream(ws));
    stream.on("error", () => stream.destroy());
    neverWaitForDrain(aedes.handle(limitPacketSize(stream, maxPacket, refused("ws", req.socket.remoteAddress)), req), maxOutgoing);
  });

  try {
    await listen(tcp, opts.port, opts.host, "MQTT");
    await listen(http, opts.wsPort, opts.wsHost, "MQTT over WebSocket");
  } catch (err) {
    tcp.close();
    http.close();
    await new Promise<void>((r) => aedes.close(() => r()));
    throw err;
  }

  // aedes keeps connected clients by id; its typings do not declare the map.
  const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;

  return {
    aedes,
    tcpPort: portOf(tcp),
    wsPort: portOf(http),
    route(topic, productId, deviceName) {
      // The device's own request filter is the usual case: a map lookup, no topic matching.
      if (online.has(`${productId}/${deviceName}`) || !subs.match_iter(topic).next().done) return "deliverable";
      const device = clients[deviceClientId(productId, deviceName)];
      // A registered client gets its CONNACK before aedes sets `connected`: being registered and not closed is what counts.
      return device && !device.closed ? "not_subscribed" : "offline";
    },
    onDelivered: (l) => void deliveredListeners.push(l),
    onPresence: (l) => void presenceListeners.push(l),
    onlineDevices: () =>
      [...online.keys()].map((key) => {
        const i = key.indexOf("/");
        return { productId: key.slice(0, i), deviceName: key.slice(i + 1) };
      }),
    closeClients(match) {
      let n = 0;
      for (const c of Object.values(clients)) {
        if (c && !c.closed && match(c)) {
          c.close();
          n++;
        }
      }
      return n;
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await Promise.all([
        new Promise<void>((r) => wss.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
        new Promise<void>((r) => http.close(() => r())),
        new Promise<void>((r) => aedes.close(() => r())),
      ]);
    },
  };
}

function listen(server: NetServer | HttpServer, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen for ${what} on ${host}:${port}: ${err.code ?? err.message}`));
    };
    server.once("error", onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function portOf(server: NetServer | HttpServer): number {
  const a = server.address();
  return typeof a === "object" && a ? a.port : 0;
}
