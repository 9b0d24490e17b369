import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { createHmac } from "node:crypto";
import { startEmbeddedBroker, type EmbeddedBroker } from "../broker";
import { Registry } from "../registry";
import { isObserver } from "../runtime";
import { connectMqtt, endMqtt } from "../mqtt-client";
import { startSimDevice } from "../../device/simulator";
import { CONNACK_RETURN_CODES, deviceCredentials, verifyDeviceLogin } from "./device-auth";

/**
 * verifyDeviceLogin as the embedded broker's authenticate hook, with real MQTT clients: a sketch
 * of the wiring, not the wiring itself (observers are let in without credentials here only).
 */
let broker: EmbeddedBroker;
let registry: Registry;
let db: Database.Database;
let url: string;

beforeAll(async () => {
  db = new Database(":memory:");
  registry = new Registry(db);
  broker = await startEmbeddedBroker(
    { host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver },
    {
      authenticate(client, username, password, done) {
        if (isObserver(client.id)) return done(null, true);
        const r = verifyDeviceLogin({
          clientId: client.id,
          username,
          password,
          now: Date.now() / 1000,
          secretFor: (p, d) => registry.deviceAuthRecord(p, d),
        });
        if (r.ok) return done(null, true);
        done(Object.assign(new Error(r.message), { returnCode: CONNACK_RETURN_CODES[r.reason] }), false);
      },
    },
  );
  url = `mqtt://127.0.0.1:${broker.tcpPort}`;
});

afterAll(async () => {
  await broker.close();
  db.close();
});

/** The CONNACK refusal code a client gets, or 0 when it connects. */
async function connackCode(clientId: string, username: string, password: string, protocolVersion: 3 | 4 = 4): Promise<number> {
  const c = connectMqtt(url, { clientId, username, password, protocolVersion, reconnectPeriod: 0 });
  try {
    return await new Promise<number>((resolve) => {
      c.once("connect", () => resolve(0));
      c.once("error", (err) => resolve(Number((err as Error & { code?: number }).code)));
    });
  } finally {
    await endMqtt(c, true);
  }
}

describe("device key authentication on the embedded broker", () => {
  it("a device with credentials from deviceCredentials connects and subscribes", async () => {
    const { secret } = registry.createDevice("AUTHPROD01", "kitchen");
    const creds = deviceCredentials("AUTHPROD01", "kitchen", secret);
    const d = await startSimDevice({ url, productId: "AUTHPROD01", deviceName: "kitchen", username: creds.username, password: creds.password });
    await d.stop();
  });

  it("a Python-SDK-style login (MQTT 3.1, HMAC-SHA1, millisecond timestamp) connects", async () => {
    const { secret } = registry.createDevice("AUTHPROD01", "pysdk");
    const username = `AUTHPROD01pysdk;21010406;aB3dE;${Date.now() - 3_600_000}`;
    const sign = createHmac("sha1", Buffer.from(secret, "base64")).update(username).digest("hex");
    expect(await connackCode("AUTHPROD01pysdk", username, `${sign};hmacsha1`, 3)).toBe(0);
  });

  it("refuses a wrong secret (4), an unknown device (4), an expired login (4) and a disabled device (5)", async () => {
    const { secret } = registry.createDevice("AUTHPROD01", "guarded");
    const wrong = deviceCredentials("AUTHPROD01", "guarded", Buffer.from("not the secret!!").toString("base64"));
    expect(await connackCode(wrong.clientId, wrong.username, wrong.password)).toBe(4);
    const ghost = deviceCredentials("AUTHPROD01", "ghost", secret);
    expect(await connackCode(ghost.clientId, ghost.username, ghost.password)).toBe(4);
    const old = deviceCredentials("AUTHPROD01", "guarded", secret, { expiry: Math.floor(Date.now() / 1000) - 10 });
    expect(await connackCode(old.clientId, old.username, old.password)).toBe(4);
    registry.setDisabled("AUTHPROD01", "guarded", true);
    const good = deviceCredentials("AUTHPROD01", "guarded", secret);
    expect(await connackCode(good.clientId, good.username, good.password)).toBe(5);
    registry.setDisabled("AUTHPROD01", "guarded", false);
    expect(await connackCode(good.clientId, good.username, good.password)).toBe(0);
  });
});
