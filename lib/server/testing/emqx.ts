import { Aedes, type Client } from "aedes";
import { createServer, type AddressInfo } from "node:net";

/**
 * A broker-shaped client of the HTTP hooks: requests as EMQX 5's HTTP authenticator and HTTP
 * authorizer send them, with the body templates of docs/scale-out.md.
 */

/** The body templates of the EMQX configuration in docs/scale-out.md. */
export const EMQX_AUTHN_BODY = { clientid: "${clientid}", username: "${username}", password: "${password}" };
export const EMQX_AUTHZ_BODY = { clientid: "${clientid}", username: "${username}", topic: "${topic}", action: "${action}", retain: "${retain}" };

/** A template rendered as EMQX renders it: each placeholder replaced, a missing value as "". */
export function renderTemplate(template: Record<string, string>, vars: Record<string, string | undefined>): string {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(template)) out[k] = v.replace(/\$\{(\w+)\}/g, (_m, name: string) => vars[name] ?? "");
  return JSON.stringify(out);
}

export type HookAnswer = { status: number; text: string; result: string | null; expireAt: number | null };

/** POST /api/broker/{hook} with `Authorization: Bearer <secret>` (null: no header). */
export async function postHook(
  hubUrl: string,
  hook: "authn" | "authz",
  body: string,
  secret: string | null,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<HookAnswer> {
  const r = await fetch(`${hubUrl}/api/broker/${hook}`, {
    method: "POST",
    headers: { ...(secret === null ? {} : { authorization: `Bearer ${secret}` }), ...headers },
    body,
  });
  const text = await r.text();
  const parsed = r.status === 200 ? (JSON.parse(text) as { result: string; expire_at?: number }) : null;
  return { status: r.status, text, result: parsed?.result ?? null, expireAt: parsed?.expire_at ?? null };
}

export type EmqxLike = {
  url: string;
  aedes: Aedes;
  /** Publishes as the broker itself, on any topic ($SYS included), as EMQX publishes its events. */
  publishAsBroker(topic: string, payload: string): Promise<void>;
  /** Hook requests sent, by hook. */
  calls: { authn: number; authz: number };
  close(): Promise<void>;
};

/**
 * An MQTT broker (aedes) that behaves as EMQX 5 configured as docs/scale-out.md says: every
 * CONNECT, SUBSCRIBE and PUBLISH asks the HTTP hooks of one of `hubs()` (round robin, as a load
 * balancer without sticky sessions would), anything but a 200 "allow" is a deny (the chain ends in
 * deny), a denied PUBLISH is dropped (deny_action = ignore); and it publishes
 * `$SYS/brokers/{node}/clients/{clientid}/connected|disconnected` with EMQX's payload fields.
 */
export async function startEmqxLike(opts: { hubs: () => string[]; secret: string; node?: string }): Promise<EmqxLike> {
  const node = opts.node ?? "emqx@node1";
  const usernames = new WeakMap<Client, string | undefined>();
  const calls = { authn: 0, authz: 0 };
  let next = 0;
  const ask = async (hook: "authn" | "authz", body: string): Promise<HookAnswer | null> => {
    const hubs = opts.hubs();
    if (hubs.length === 0) return null;
    calls[hook]++;
    return postHook(hubs[next++ % hubs.length]!, hook, body, opts.secret).catch(() => null);
  };
  const authz = async (client: Client, topic: string, action: "publish" | "subscribe", retain?: boolean) =>
    (
      await ask(
        "authz",
        renderTemplate(EMQX_AUTHZ_BODY, {
          clientid: client.id,
          username: usernames.get(client),
          topic,
          action,
          retain: retain === undefined ? undefined : String(retain),
        }),
      )
    )?.result === "allow";

  const aedes = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      void ask("authn", renderTemplate(EMQX_AUTHN_BODY, { clientid: client.id, username, password: password?.toString("utf8") })).then((a) => {
        if (a?.result !== "allow") return done(Object.assign(new Error("not authorized"), { returnCode: 5 as const }), false);
        usernames.set(client, username);
        done(null, true);
      });
    },
    authorizeSubscribe(client, sub, done) {
      void authz(client, sub.topic, "subscribe").then((ok) => done(null, ok ? sub : null));
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null);
      void authz(client, packet.topic, "publish", packet.retain).then((ok) => {
        if (!ok) packet.topic = "$dropped/by-authz";
        done(null);
      });
    },
  });
  const publishAsBroker = (topic: string, payload: string) =>
    new Promise<void>((resolve, reject) =>
      aedes.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  aedes.on("clientReady", (client) => {
    const now = Date.now();
    void publishAsBroker(
      `$SYS/brokers/${node}/clients/${client.id}/connected`,
      JSON.stringify({ clientid: client.id, username: usernames.get(client) ?? null, proto_ver: 4, keepalive: 30, connected_at: now, ts: now }),
    );
  });
  aedes.on("clientDisconnect", (client) => {
    const now = Date.now();
    void publishAsBroker(
      `$SYS/brokers/${node}/clients/${client.id}/disconnected`,
      JSON.stringify({ clientid: client.id, username: usernames.get(client) ?? null, reason: "normal", disconnected_at: now, ts: now }),
    );
  });
  const server = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    aedes,
    publishAsBroker,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close();
        aedes.close(() => resolve());
      }),
  };
}
