/** Helpers for integration tests: real brokers and real servers on free loopback ports. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDir(prefix = "rrpc-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await sleep(everyMs);
  }
}

/** A process's resident memory in bytes (Linux: /proc); 0 once it is gone. */
export function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The same in MiB. */
export const rssMiB = (pid: number): number => rssOf(pid) / (1024 * 1024);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

export type Mosquitto = { url: string; port: number; proc: ChildProcess; stop(): Promise<void> };

/** A real Mosquitto on a free loopback port (anonymous, no-delay, generous queues). */
export async function startMosquitto(port?: number): Promise<Mosquitto> {
  const p = port ?? (await freePort());
  const dir = tempDir("rrpc-mosquitto-");
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${p} 127.0.0.1`,
      "allow_anonymous true",
      "set_tcp_nodelay true",
      "persistence false",
      "max_queued_messages 100000",
      "max_inflight_messages 0",
      "log_type error",
      "",
    ].join("\n"),
  );
  const bin = process.env.MOSQUITTO_BIN ?? "/usr/sbin/mosquitto";
  const proc = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d) => (stderr += d));
  await waitFor(async () => proc.exitCode === null && (await portOpen(p)), `mosquitto on ${p}`, 5000).catch((err) => {
    proc.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${stderr}`);
  });
  return {
    url: `mqtt://127.0.0.1:${p}`,
    port: p,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

const SERVER_BUILD = join(__dirname, "..", "..", "..", "dist", "server.mjs");

export type ServerHandle = {
  url: string;
  port: number;
  mqttPort: number;
  wsPort: number;
  dbPath: string;
  proc: ChildProcess;
  output(): string;
  /** Graceful stop (SIGTERM), or a crash (SIGKILL). */
  stop(signal?: NodeJS.Signals): Promise<void>;
};

/** The production server (`npm start`: dist/server.mjs) on free ports with its own SQLite file, not waited for. Needs `npm run build` first. */
export async function spawnServer(env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const root = join(__dirname, "..", "..", "..");
  if (!existsSync(join(root, ".next", "BUILD_ID")) || !existsSync(SERVER_BUILD)) throw new Error("no production build: run `npm run build` first");
  // Ports named in `env` are used as they are (a test that restarts a server on the same ports).
  const pick = async (name: string) => (env[name] ? Number(env[name]) : await freePort());
  const [port, mqttPort, wsPort] = [await pick("PORT"), await pick("MQTT_PORT"), await pick("MQTT_WS_PORT")];
  const dbPath = env.RRPC_DB ?? join(tempDir(), "rrpc.db");
  const host = env.HOST ?? "127.0.0.1";
  const proc = spawn(process.execPath, ["--enable-source-maps", ...nodeArgs, SERVER_BUILD], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: host,
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      MQTT_WS_PORT: String(wsPort),
      RRPC_DB: dbPath,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, port, mqttPort, wsPort, dbPath, exited, output: () => out, url: `http://127.0.0.1:${port}` };
}

/** The production build on free ports, ready (health answers 200). */
export async function startServer(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerHandle> {
  const { proc, port, mqttPort, wsPort, dbPath, exited, output, url } = await spawnServer(env, nodeArgs);
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
        const r = await fetch(`${url}/api/health`);
        return r.ok;
      },
      "the server to be ready",
      20_000,
      50,
    );
  } catch (err) {
    proc.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
  return {
    url,
    port,
    mqttPort: Number(env.MQTT_PORT ?? mqttPort),
    wsPort: Number(env.MQTT_WS_PORT ?? wsPort),
    dbPath,
    proc,
    output,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Registers a device through the server's API and answers with its secret. */
export async function registerDevice(
  server: { url: string },
  productId: string,
  deviceName: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const r = await fetch(`${server.url}/api/devices`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ productId, deviceName }),
  });
  const body = (await r.json()) as { secret?: string; error?: { message: string } };
  if (r.status !== 201 || !body.secret) throw new Error(`cannot register ${productId}/${deviceName}: ${r.status} ${body.error?.message}`);
  return body.secret;
}
