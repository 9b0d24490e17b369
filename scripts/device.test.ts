import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { startServer, waitFor, type ServerHandle } from "../lib/server/testing/servers";

const root = join(__dirname, "..");

function runDevice(s: ServerHandle, args: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(
    process.execPath,
    [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "scripts", "device.ts"), "--url", `mqtt://127.0.0.1:${s.mqttPort}`, ...args],
    {
      env: { ...process.env, RRPC_DB: s.dbPath },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  return { proc, output: () => out, exited: new Promise((r) => proc.once("exit", (code) => r(code))) };
}

describe("npm run device", () => {
  let s: ServerHandle;
  beforeAll(async () => {
    s = await startServer({ RRPC_SIMULATOR: "0" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("refuses a device that is not registered, with what to do", async () => {
    const d = runDevice(s, ["--product", "CLIPROD001", "--device", "unknown"]);
    expect(await d.exited).toBe(2);
    expect(d.output()).toContain("CLIPROD001/unknown is not registered: add --register");
  });

  it("registers itself with --register, logs in with Tencent's key auth and answers calls", async () => {
    const d = runDevice(s, ["--product", "CLIPROD001", "--device", "kitchen", "--register", "--reply", "from-cli"]);
    try {
      await waitFor(() => d.output().includes("connected to"), "the device to connect", 20_000);
      const r = await fetch(`${s.url}/api/calls`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ productId: "CLIPROD001", deviceName: "kitchen", payload: "x" }),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { reply: { payloadText: string } }).reply.payloadText).toBe("from-cli");
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited;
    }
  });
});
