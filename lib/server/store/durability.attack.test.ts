/**
 * Attack suite (issue: hardening), findings 8 and 9 — against the production server with a real
 * device: a call answered 200 is in the store after kill -9 (the answer waits for the commit),
 * and a disk that cannot be written (a file-size limit of 0 set on the running server with
 * prlimit, soft limit only: every write of the SQLite file then fails with EFBIG, as on a full disk) makes the hub
 * refuse new calls with 503 store_unavailable, publish nothing for them, say why in
 * /api/health, recover by itself once the limit is lifted, and never reissue a processId.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { startSimDevice, type SimDevice } from "../simulator/simulator";
import { registerDevice, startServer, waitFor, type ServerHandle } from "../testing/servers";
import type { ApiErrorBody, Health } from "../../rrpc/api";
import type { CallJson } from "../../rrpc/types";

const PRODUCT = "DURABLE001";
let servers: ServerHandle[] = [];
let devices: SimDevice[] = [];
afterEach(async () => {
  for (const d of devices) await d.stop();
  for (const s of servers) await s.stop("SIGKILL");
  servers = [];
  devices = [];
});

async function server(env: Record<string, string> = {}): Promise<ServerHandle> {
  const s = await startServer({ RRPC_SIMULATOR: "0", ...env });
  servers.push(s);
  return s;
}

/** A device that answers every request and remembers each processId it was sent. */
async function device(s: ServerHandle, deviceName: string, secret?: string): Promise<{ sim: SimDevice; secret: string; received: Set<string> }> {
  secret ??= await registerDevice(s, PRODUCT, deviceName);
  const received = new Set<string>();
  const sim = await startSimDevice({
    url: `mqtt://127.0.0.1:${s.mqttPort}`,
    productId: PRODUCT,
    deviceName,
    secret,
    reply: (_req, processId) => (received.add(processId), `done ${processId}`),
  });
  devices.push(sim);
  return { sim, secret, received };
}

type Outcome = { status: number; code?: string; call?: CallJson };

async function call(s: ServerHandle, deviceName: string, payload: string): Promise<Outcome> {
  const r = await fetch(`${s.url}/api/calls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT, deviceName, payload, timeoutMs: 4000 }),
  });
  const body = (await r.json()) as CallJson | ApiErrorBody;
  if (r.status === 200) return { status: 200, call: body as CallJson };
  const err = body as ApiErrorBody;
  return { status: r.status, code: err.error.code, call: err.call };
}

/**
 * `loops` callers, each making its next call when its previous one is answered, until `stop()`.
 * Connection errors (a killed server) end a loop. `onAnswer` runs as each answer arrives.
 */
function load(s: ServerHandle, deviceName: string, loops: number, payload: string, onAnswer?: (answered: number) => void) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  let answered = 0;
  const running = Array.from({ length: loops }, async () => {
    while (!stopped) {
      try {
        const o = await call(s, deviceName, payload);
        outcomes.push(o);
        if (o.status === 200) onAnswer?.(++answered);
      } catch {
        return;
      }
    }
  });
  return {
    outcomes,
    answered: () => outcomes.filter((o) => o.status === 200).map((o) => o.call!.processId),
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}

async function health(s: ServerHandle): Promise<{ status: number; body: Health }> {
  const r = await fetch(`${s.url}/api/health`);
  return { status: r.status, body: (await r.json()) as Health };
}

async function stored(s: ServerHandle, processId: string): Promise<{ status: number; call?: CallJson }> {
  const r = await fetch(`${s.url}/api/calls/${processId}`);
  return { status: r.status, call: r.status === 200 ? ((await r.json()) as CallJson) : undefined };
}

describe("finding 9: kill -9", () => {
  it("loses no call that was answered: every processId answered 200 is found after restart", async () => {
    const s = await server();
    const { secret } = await device(s, "d1");
    // Killed the moment the 600th answer arrives: calls are in flight and batches are being
    // committed, and the newest answers are microseconds old.
    const killed = new Promise((resolve) => s.proc.once("exit", resolve));
    const l = load(s, "d1", 40, "reboot", (n) => n === 600 && s.proc.kill("SIGKILL"));
    await killed;
    await l.stop();
    const answered = l.answered();
    expect(answered.length).toBeGreaterThanOrEqual(600);

    const again = await server({ RRPC_DB: s.dbPath });
    await device(again, "d1", secret);
    const missing: string[] = [];
    for (const id of answered) {
      const r = await stored(again, id);
      if (r.status !== 200 || r.call?.status !== "success" || r.call.reply?.payloadText !== `done ${id}`) missing.push(id);
    }
    expect(missing).toEqual([]);
    // Nothing answered is reissued either.
    const next = await call(again, "d1", "after restart");
    expect(next.status).toBe(200);
    expect(BigInt(next.call!.processId)).toBeGreaterThan(answered.map(BigInt).reduce((a, b) => (a > b ? a : b)));
  });
});

describe("finding 8: the disk cannot be written", () => {
  it("refuses new calls with 503 store_unavailable while it lasts, says why, recovers by itself, loses nothing answered, reissues no id", async () => {
    const s = await server();
    const { secret, received } = await device(s, "d1");
    const pid = String(s.proc.pid);
    const l = load(s, "d1", 10, "x".repeat(2000));
    await waitFor(() => l.answered().length >= 100, "100 answered calls", 30_000);

    execFileSync("prlimit", ["--pid", pid, "--fsize=0:"]);
    const unhealthy = await waitFor(async () => {
      const h = await health(s);
      return h.status === 503 && !h.body.store.writable ? h.body : null;
    }, "/api/health to report the store unwritable");
    expect(unhealthy.ok).toBe(false);
    expect(unhealthy.store.error).toMatch(/disk|I\/O|full/i);
    await waitFor(() => l.outcomes.filter((o) => o.code === "store_unavailable").length >= 50, "50 calls refused store_unavailable");

    execFileSync("prlimit", ["--pid", pid, "--fsize=unlimited:"]);
    await waitFor(async () => (await health(s)).status === 200, "the store to recover by itself");
    const refusedSoFar = l.outcomes.length;
    await waitFor(() => l.outcomes.slice(refusedSoFar).filter((o) => o.status === 200).length >= 100, "100 calls answered after recovery", 30_000);
    await l.stop();

    const refused = l.outcomes.filter((o) => o.code === "store_unavailable");
    expect(refused.every((o) => o.status === 503 && o.call === undefined)).toBe(true);
    // Every other request made a call and got its answer.
    expect(l.outcomes.filter((o) => o.status !== 200 && o.code !== "store_unavailable")).toEqual([]);
    const answered = l.answered();
    // Nothing was published for a refused call: the device saw exactly the calls that were made.
    expect([...received].sort()).toEqual([...answered].sort());
    expect(new Set(answered).size).toBe(answered.length);

    s.proc.kill("SIGKILL");
    const again = await server({ RRPC_DB: s.dbPath });
    await device(again, "d1", secret);
    const missing: string[] = [];
    for (const id of answered) if ((await stored(again, id)).call?.status !== "success") missing.push(id);
    expect(missing).toEqual([]);
    const next = await call(again, "d1", "after restart");
    expect(BigInt(next.call!.processId)).toBeGreaterThan(answered.map(BigInt).reduce((a, b) => (a > b ? a : b)));
    expect(s.output()).toContain("the store cannot write");
    expect(s.output()).toContain("the store can write again");
  });
});
