import { describe, expect, it } from "vitest";
import { isLoopback } from "../auth/hosts";
import { loadConfig } from "./config";

describe("configuration", () => {
  it("defaults to loopback with no sign-in", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      httpHost: "127.0.0.1",
      httpPort: 3000,
      mqttPort: 1883,
      mqttWsPort: 8083,
      exposed: false,
      operator: null,
      simulator: true,
    });
  });

  it("knows loopback addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopback(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) expect(isLoopback(h), h).toBe(false);
  });

  it("refuses to listen beyond loopback without operator credentials, naming the variable", () => {
    expect(() => loadConfig({ HOST: "0.0.0.0" })).toThrow(/HOST=0\.0\.0\.0.*needs operator credentials/s);
    expect(() => loadConfig({ MQTT_WS_HOST: "::" })).toThrow(/MQTT_WS_HOST=::/);
    const c = loadConfig({ HOST: "0.0.0.0", RRPC_OPERATOR_PASSWORD: "correct horse battery staple" });
    expect(c.exposed).toBe(true);
    expect(c.operator?.user).toBe("admin");
    expect(c.operator?.passwordHash).toMatch(/^scrypt\$/);
    // An external broker's listeners are not ours.
    expect(loadConfig({ MQTT_URL: "mqtt://10.0.0.5:1883", MQTT_HOST: "0.0.0.0" }).exposed).toBe(false);
  });

  it("limits replies to RRPC_MAX_REPLY (1 MiB by default) and sizes the broker's packets above both limits", () => {
    const d = loadConfig({});
    expect(d.maxReplyBytes).toBe(1024 * 1024);
    expect(d.mqttMaxPacketBytes).toBe(2 * 1024 * 1024);
    const big = loadConfig({ RRPC_MAX_REPLY: String(24 * 1024 * 1024), RRPC_MAX_PAYLOAD: String(1024 * 1024) });
    expect(big.maxReplyBytes).toBe(24 * 1024 * 1024);
    expect(big.mqttMaxPacketBytes).toBe(24 * 1024 * 1024 + 64 * 1024);
    expect(loadConfig({ RRPC_MAX_PAYLOAD: String(8 * 1024 * 1024) }).mqttMaxPacketBytes).toBe(8 * 1024 * 1024 + 64 * 1024);
    expect(loadConfig({ RRPC_MAX_REPLY: "1", MQTT_MAX_PACKET: String(128 * 1024) })).toMatchObject({
      maxReplyBytes: 1,
      mqttMaxPacketBytes: 128 * 1024,
    });
    for (const bad of ["0", "-1", "1.5", "lots", String(64 * 1024 * 1024 + 1)]) {
      expect(() => loadConfig({ RRPC_MAX_REPLY: bad }), bad).toThrow(/RRPC_MAX_REPLY/);
    }
    expect(loadConfig({ RRPC_MAX_REPLY: String(64 * 1024 * 1024) }).maxReplyBytes).toBe(64 * 1024 * 1024);
  });

  it("takes RRPC_BROKER_HOOK_SECRET with an external broker only, 32+ characters without spaces", () => {
    const secret = "s".repeat(32);
    expect(loadConfig({ MQTT_URL: "mqtt://127.0.0.1:1883", RRPC_BROKER_HOOK_SECRET: secret }).brokerHookSecret).toBe(secret);
    expect(loadConfig({ MQTT_URL: "mqtt://127.0.0.1:1883" }).brokerHookSecret).toBeUndefined();
    expect(() => loadConfig({ RRPC_BROKER_HOOK_SECRET: secret })).toThrow(/RRPC_BROKER_HOOK_SECRET: .*set MQTT_URL too/);
    expect(() => loadConfig({ MQTT_URL: "mqtt://127.0.0.1:1883", RRPC_BROKER_HOOK_SECRET: "short" })).toThrow(
      /RRPC_BROKER_HOOK_SECRET: must be at least 32 characters/,
    );
    expect(() => loadConfig({ MQTT_URL: "mqtt://127.0.0.1:1883", RRPC_BROKER_HOOK_SECRET: `${secret} x` })).toThrow(/must not contain spaces/);
  });

  it("explains every bad value at once", () => {
    expect(() => loadConfig({ PORT: "http", RRPC_MAX_PAYLOAD: "-1", RRPC_OPERATOR_PASSWORD: "short" })).toThrow(
      /PORT[\s\S]*RRPC_MAX_PAYLOAD[\s\S]*RRPC_OPERATOR_PASSWORD: must be at least 12 characters/,
    );
    expect(() => loadConfig({ RRPC_SIMULATOR: "maybe" })).toThrow(/RRPC_SIMULATOR/);
  });

  it("takes a PostgreSQL URL in DATABASE_URL, and nothing else there, without echoing it", () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: "postgres://hub:pw@127.0.0.1:5432/rrpc" }).databaseUrl).toBe("postgres://hub:pw@127.0.0.1:5432/rrpc");
    expect(loadConfig({ DATABASE_URL: "postgresql://db/rrpc" }).databaseUrl).toBe("postgresql://db/rrpc");
    for (const bad of ["mysql://u:topsecret@db/x", "postgres://", "./data/rrpc.db"]) {
      let message = "";
      try {
        loadConfig({ DATABASE_URL: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
      expect(message).not.toContain("topsecret");
    }
  });
});
