/**
 * Attack suite (issue: hardening), finding 7 — DNS rebinding and cross-site requests, against
 * the production server on its default loopback mode: a request naming another host is
 * refused on every route and on the broker's WebSocket; a cross-origin request that changes
 * state is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import WebSocket from "ws";
import { startServer, type ServerHandle } from "../testing/servers";

let s: ServerHandle;
beforeAll(async () => {
  s = await startServer({ RRPC_ALLOWED_HOSTS: "hub.internal" });
});
afterAll(async () => {
  await s?.stop();
});

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port: s.port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    r.on("error", reject);
    r.end(body);
  });
}

const code = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

function wsOutcome(headers: Record<string, string>): Promise<"open" | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.wsPort}/mqtt`, "mqtt", { headers });
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => undefined);
  });
}

describe("finding 7: DNS rebinding and cross-site requests", () => {
  it("answers loopback names and RRPC_ALLOWED_HOSTS", async () => {
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `[::1]:${s.port}`, `hub.internal:${s.port}`, "hub.internal"]) {
      expect((await send("GET", "/api/health", { host })).status, host).toBe(200);
    }
  });

  it("refuses any other Host with 421 on API routes, pages and Tencent's API, changing nothing", async () => {
    const before = await send("GET", "/api/keys", { host: `127.0.0.1:${s.port}` });
    for (const [method, path, headers] of [
      ["GET", "/api/health", {}],
      ["GET", "/api/devices/AIRCOND001/airConditioner1/connect", {}],
      ["POST", "/api/keys", { "content-type": "application/json" }],
      ["GET", "/", {}],
      ["POST", "/", { "x-tc-action": "PublishRRPCMessage", "content-type": "application/json" }],
    ] as [string, string, Record<string, string>][]) {
      const r = await send(method, path, { host: `rebound.example:${s.port}`, ...headers }, method === "POST" ? "{}" : undefined);
      expect(r.status, `${method} ${path}`).toBe(421);
      expect(code(r.body)).toBe("misdirected_request");
    }
    expect((await send("GET", "/api/keys", { host: `127.0.0.1:${s.port}` })).body).toBe(before.body);
  });

  it("refuses state-changing requests from another origin (also a null origin), and allows its own", async () => {
    const host = `127.0.0.1:${s.port}`;
    const json = { host, "content-type": "application/json" };
    for (const origin of ["https://evil.example", "null", `http://localhost:${s.port}`]) {
      const r = await send("POST", "/api/keys", { ...json, origin }, "{}");
      expect(r.status, origin).toBe(403);
      expect(code(r.body)).toBe("forbidden");
    }
    expect((await send("POST", "/api/keys", { ...json, origin: `http://${host}` }, "{}")).status).toBe(201);
    // Reads carry no side effects: a cross-origin GET is left to the browser's same-origin policy.
    expect((await send("GET", "/api/health", { host, origin: "https://evil.example" })).status).toBe(200);
  });

  it("refuses the broker's WebSocket for another Host or Origin", async () => {
    expect(await wsOutcome({ host: `127.0.0.1:${s.wsPort}`, origin: `http://127.0.0.1:${s.port}` })).toBe("open");
    expect(await wsOutcome({ host: `rebound.example:${s.wsPort}` })).toBe(401);
    expect(await wsOutcome({ host: `127.0.0.1:${s.wsPort}`, origin: "https://evil.example" })).toBe(401);
  });
});
