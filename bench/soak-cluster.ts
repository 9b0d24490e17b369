/**
 * `npm run soak -- --hubs 3 --store postgres --broker mosquitto [--calls N --seconds S --concurrency N
 * --devices N --seed N --lease-ms MS]`: several hubs act as one (docs/scale-out.md). Starts its own
 * PostgreSQL and Mosquitto and N production servers on them; calls go through every hub's API
 * while misbehaving devices (bench/misbehaving-devices.ts) answer late, twice, never, for others;
 * a quarter of the way in the last hub is killed (SIGKILL) with calls and a batch in flight, the
 * others must end its calls `interrupted` within 30 s and its batch `interrupted` with its unsent
 * targets counted; then it is started again and must take calls. At the end, read through one
 * hub: every call accounted for exactly once (the API's answer = the store's; a call whose
 * answer was lost with the killed hub is in the store once, ended), none pending, processIds
 * unique, each reply its own request's or no request's at all (every payload is unique), no reply
 * recorded twice (by two hubs). Exit code 1 on any violation.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { CallJson, CallStatus } from "../lib/rrpc/types";
import type { BatchJson } from "../lib/rrpc/batch";
import { sleep, startMosquitto, startServer, waitFor, type Mosquitto, type ServerHandle } from "../lib/server/testing/servers";
import { startPostgres, type Postgres } from "../lib/server/testing/postgres";
import { deviceNames } from "./common";
import { JsonClient } from "./http-client";
import type { MisbehavingDevicesApi } from "./misbehaving-devices";
import { forkChild, machineInfo, type Child } from "./proc";
import { Ledger, Violations, checkTerminal, mergeStats } from "./soak-ledger";
import { markdownTable } from "./stats";

const PRODUCT = "SOAKHUBS01";
/** Registered, never connected: with an external broker the hub cannot tell, so its calls time out. */
const GHOST = "ghost0";
/** Never registered: refused (404) by every hub, without a call. */
const UNKNOWN = "unknown0";
/** Devices of the batch that is in flight when its hub is killed: they never answer. */
const MUTE = "mute";
const BATCH_TARGETS = 400;
const DEVICES_PER_PROCESS = 500;
const MAX_PAYLOAD = 16 * 1024;
const MAX_REPLY = 40 * 1024;
const PAGE = 500;
/** The issue's bound: a dead hub's calls are ended by the others within this. */
const TAKEOVER_BOUND_MS = 30_000;
/** Calls the restarted hub must answer before the load ends. */
const RESTARTED_CALLS = 100;

type Options = {
  hubs: number;
  calls: number;
  seconds: number;
  concurrency: number;
  devices: number;
  seed: number;
  timeoutMin: number;
  timeoutMax: number;
  leaseMs: number;
  kill: boolean;
};

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      hubs: { type: "string", default: "3" },
      store: { type: "string", default: "postgres" },
      broker: { type: "string", default: "mosquitto" },
      calls: { type: "string" },
      seconds: { type: "string" },
      concurrency: { type: "string", default: "48" },
      devices: { type: "string", default: "60" },
      seed: { type: "string" },
      "timeout-min": { type: "string", default: "200" },
      "timeout-max": { type: "string", default: "500" },
      "lease-ms": { type: "string", default: "15000" },
      "no-kill": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    log(
      "usage: npm run soak -- --hubs N (3) [--store postgres] [--broker mosquitto] [--calls N (20000)] [--seconds S]\n" +
        "       [--concurrency N (48)] [--devices N (60)] [--seed N] [--timeout-min MS] [--timeout-max MS] [--lease-ms MS (15000)] [--no-kill]",
    );
    process.exit(0);
  }
  if (values.store !== "postgres") throw new Error("--store: several hubs share a PostgreSQL database (postgres)");
  if (values.broker !== "mosquitto") throw new Error("--broker: several hubs share an external broker (mosquitto)");
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${v}`);
    return n;
  };
  const seconds = int("seconds", values.seconds, 1);
  const timeoutMin = int("timeout-min", values["timeout-min"], 100)!;
  return {
    hubs: int("hubs", values.hubs, 1)!,
    calls: int("calls", values.calls, 1) ?? (seconds ? Number.MAX_SAFE_INTEGER : 20_000),
    seconds: seconds ?? Infinity,
    concurrency: int("concurrency", values.concurrency, 1)!,
    devices: int("devices", values.devices, 1)!,
    seed: int("seed", values.seed, 0) ?? randomBytes(4).readUInt32BE(0),
    timeoutMin,
    timeoutMax: int("timeout-max", values["timeout-max"], timeoutMin)!,
    leaseMs: int("lease-ms", values["lease-ms"], 3000)!,
    kill: !values["no-kill"] && int("hubs", values.hubs, 1)! > 1,
  };
}

/** One hub process and the client the caller uses for it. */
type HubSlot = { server: ServerHandle; http: JsonClient; alive: boolean; answered: number; generation: number };

/** A request the caller sent: its unique payload, and what became of it. */
type Sent = { payload: string; hub: number; generation: number; processId?: string; lost?: boolean };

export async function soakCluster(argv: string[]): Promise<number> {
  const o = options(argv);
  const v = new Violations();
  const ledger = new Ledger(v);
  log(
    `cluster soak: ${o.hubs} hubs on one PostgreSQL and one Mosquitto, ${o.calls === Number.MAX_SAFE_INTEGER ? "unlimited" : o.calls} calls` +
      `${Number.isFinite(o.seconds) ? ` or ${o.seconds} s` : ""}, ${o.devices} misbehaving devices, ${o.concurrency} requests in flight, ` +
      `lease ${o.leaseMs} ms, ${o.kill ? "last hub killed -9 and restarted" : "no kill"}, seed ${o.seed}`,
  );
  let pg: Postgres | null = null;
  let mosquitto: Mosquitto | null = null;
  const slots: HubSlot[] = [];
  const fleets: Child<MisbehavingDevicesApi>[] = [];
  const outputs: string[] = [];
  try {
    [pg, mosquitto] = await Promise.all([startPostgres(), startMosquitto()]);
    const env = {
      DATABASE_URL: await pg.createDatabase(),
      MQTT_URL: mosquitto.url,
      RRPC_SIMULATOR: "0",
      RRPC_LOG_LEVEL: "warn",
      RRPC_MAX_IN_FLIGHT: String(o.concurrency * 4),
      RRPC_MAX_PAYLOAD: String(MAX_PAYLOAD),
      RRPC_MAX_REPLY: String(MAX_REPLY),
      RRPC_RETENTION_CALLS: String(1e9),
      RRPC_HUB_LEASE_MS: String(o.leaseMs),
    };
    const startHub = async (): Promise<HubSlot> => {
      const server = await startServer(env);
      return { server, http: new JsonClient(server.url, o.concurrency + 8), alive: true, answered: 0, generation: 0 };
    };
    // The first one migrates the database; the others start together.
    slots.push(await startHub());
    slots.push(...(await Promise.all(Array.from({ length: o.hubs - 1 }, startHub))));
    log(`hubs up: ${slots.map((s) => `${s.server.url} (pid ${s.server.proc.pid})`).join(", ")}`);

    // Each device registered through one hub, round robin: all are callable through every hub.
    const names = deviceNames(o.devices);
    const mutes = deviceNames(BATCH_TARGETS, MUTE);
    for (const [i, name] of [...names, GHOST, ...mutes].entries()) {
      const r = await slots[i % slots.length]!.http.post("/api/devices", { productId: PRODUCT, deviceName: name });
      if (r.status !== 201) throw new Error(`registering ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await Promise.all(
      Array.from({ length: Math.ceil(o.devices / DEVICES_PER_PROCESS) }, async (_, i) => {
        const fleet = forkChild<MisbehavingDevicesApi>("misbehaving-devices");
        fleets.push(fleet);
        const slice = names.slice(i * DEVICES_PER_PROCESS, (i + 1) * DEVICES_PER_PROCESS);
        await fleet.call("start", { url: mosquitto!.url, productId: PRODUCT, names: slice, lateMs: o.timeoutMax + 100, seed: o.seed + i });
      }),
    );
    log(`${o.devices} devices connected`);

    const sent: Sent[] = [];
    const payloads = new Map<string, Sent>();
    const httpStatuses: Record<string, number> = {};
    let made = 0;
    let next = 0;
    let stop = false;
    const killer = o.kill ? slots.length - 1 : -1;
    let killAt = 0;
    let takeoverMs: number | null = null;
    let batchId: string | null = null;
    let batchEnd: BatchJson | null = null;
    let restartedAnswers = 0;

    const one = async () => {
      const alive = slots.map((s, i) => (s.alive ? i : -1)).filter((i) => i >= 0);
      const hub = alive[next++ % alive.length]!;
      const slot = slots[hub]!;
      const unknown = Math.random() < 0.02;
      const ghost = !unknown && Math.random() < 0.02;
      const s: Sent = { payload: `c${sent.length}.${hub}.${randomBytes(6).toString("hex")}`, hub, generation: slot.generation };
      sent.push(s);
      payloads.set(s.payload, s);
      const body = {
        productId: PRODUCT,
        deviceName: unknown ? UNKNOWN : ghost ? GHOST : names[Math.floor(Math.random() * names.length)],
        payload: s.payload,
        timeoutMs: o.timeoutMin + Math.floor(Math.random() * (o.timeoutMax - o.timeoutMin + 1)),
      };
      let r;
      try {
        r = await slot.http.post("/api/calls", body, o.timeoutMax + 30_000);
      } catch (err) {
        if (slot.alive && slot.generation === s.generation) v.add("request failed (no HTTP answer) on a live hub", (err as Error).message);
        s.lost = true;
        return;
      }
      httpStatuses[r.status] = (httpStatuses[r.status] ?? 0) + 1;
      const a = r.body as { error?: { code: string }; call?: CallJson } & Partial<CallJson>;
      const call = r.status === 200 ? (a as CallJson) : a.call;
      if (unknown) {
        if (r.status !== 404 || call) v.add("an unknown device was not refused 404 without a call", `${r.status}`);
        return;
      }
      if (!call) {
        // busy (429) carries a call; anything else without one is a violation.
        v.add("call request answered without a call", `${r.status} ${a.error?.code}`);
        return;
      }
      made++;
      slot.answered++;
      if (hub === killer && s.generation > 0) restartedAnswers++;
      s.processId = call.processId;
      ledger.answered(r.status, call);
      if (Buffer.from(call.request.payloadBase64, "base64").toString() !== s.payload) v.add("API answer: another call's request", call.processId);
    };

    const killPoint = Math.floor(o.calls / 4);
    const t0 = performance.now();
    let last = t0;
    let chaosOver = killer < 0;
    const loop = async () => {
      while (!stop) {
        // With a kill, the load goes on until the restarted hub has taken calls too.
        const restartedBusy = chaosOver && (killer < 0 || restartedAnswers >= RESTARTED_CALLS);
        if ((made >= o.calls && restartedBusy) || performance.now() - t0 >= o.seconds * 1000) return;
        await one();
        if (performance.now() - last >= 5000) {
          last = performance.now();
          const s = (last - t0) / 1000;
          log(`  ${s.toFixed(0)} s: ${made} calls (${(made / s).toFixed(0)}/s), ${JSON.stringify(httpStatuses)}`);
        }
      }
    };
    const chaos = async () => {
      if (killer < 0) return;
      const slot = slots[killer]!;
      // A batch of mute devices on the hub to be killed: in flight when it dies.
      const b = await slot.http.post("/api/batches", {
        targets: { devices: mutes.map((deviceName) => ({ productId: PRODUCT, deviceName })) },
        payload: "batch",
        timeoutMs: 1000,
        concurrency: 4,
      });
      if (b.status !== 201 && b.status !== 202 && b.status !== 200) throw new Error(`POST /api/batches: ${b.status} ${JSON.stringify(b.body)}`);
      batchId = (b.body as BatchJson).batchId;
      await waitFor(() => stop || made >= killPoint, "the kill point", 600_000, 50);
      if (stop) return;
      slot.alive = false;
      killAt = Date.now();
      outputs.push(`--- hub ${killer} (killed) ---\n${slot.server.output()}`);
      await slot.server.stop("SIGKILL");
      log(`killed hub ${killer} (pid ${slot.server.proc.pid}) after ${made} calls`);
      // Its calls: pending calls that started before the kill. Calls of live hubs end within their timeout.
      const survivor = slots.find((s) => s.alive)!;
      const t = await waitFor(
        async () => {
          const r = await survivor.http.get(`/api/calls?status=pending&limit=${PAGE}`);
          if (r.status !== 200) throw new Error(`GET /api/calls?status=pending: ${r.status}`);
          const pending = (r.body as { calls: CallJson[] }).calls.filter((c) => Date.parse(c.startedAt) < killAt);
          return pending.length === 0 && Date.now() - killAt > o.timeoutMax + 500 ? Date.now() - killAt : null;
        },
        "the killed hub's calls to end",
        TAKEOVER_BOUND_MS + 30_000,
        100,
      ).catch(() => null);
      takeoverMs = t;
      if (t === null || t > TAKEOVER_BOUND_MS) v.add("the killed hub's calls were not ended within 30 s", `${t ?? "never"} ms`);
      batchEnd = await waitFor(
        async () => {
          const r = await survivor.http.get(`/api/batches/${batchId}`);
          const j = r.body as BatchJson;
          return j.status !== "running" ? j : null;
        },
        "the killed hub's batch to end",
        TAKEOVER_BOUND_MS + 30_000,
        100,
      ).catch(() => null);
      if (!batchEnd) v.add("the killed hub's batch still running", String(batchId));
      else {
        if (batchEnd.status !== "interrupted") v.add("the killed hub's batch did not end interrupted", batchEnd.status);
        if (!(batchEnd.unsent > 0)) v.add("the killed hub's batch counted no unsent targets", JSON.stringify(batchEnd.counts));
      }
      const again = await startHub();
      again.generation = 1;
      slots[killer] = again;
      log(`hub ${killer} restarted (pid ${again.server.proc.pid}); its calls ended ${t} ms after the kill; batch ${batchEnd?.status}`);
    };
    const chaosDone = chaos()
      .catch((err: Error) => v.add("chaos failed", err.message))
      .finally(() => (chaosOver = true));
    await Promise.all(Array.from({ length: o.concurrency }, loop));
    stop = true;
    await chaosDone;
    const elapsed = (performance.now() - t0) / 1000;
    if (o.kill && restartedAnswers === 0) v.add("the restarted hub answered no call", "0");

    await sleep(o.timeoutMax + 800);
    const devices = mergeStats(await Promise.all(fleets.map((f) => f.call("stop"))));
    for (const s of slots) {
      const h = await s.http.get("/api/health");
      const n = (h.body as { inFlight: number }).inFlight;
      if (n !== 0) v.add("calls in flight at the end", `${s.server.url}: ${n}`);
    }

    // Everything, read through the first hub.
    log(`load done: ${made} calls answered in ${elapsed.toFixed(1)} s; verifying against the store…`);
    const byStatus: Partial<Record<CallStatus, number>> = {};
    const seen = new Set<number>();
    const events: Record<string, number> = {};
    let lostFound = 0;
    let batchCalls = 0;
    let before: string | null = null;
    const reader = slots[0]!.http;
    do {
      const r = await reader.get(`/api/calls?limit=${PAGE}${before ? `&before=${before}` : ""}`);
      if (r.status !== 200) throw new Error(`GET /api/calls: ${r.status}`);
      const page = r.body as { calls: CallJson[]; nextBefore: string | null };
      for (const c of page.calls) {
        if (seen.has(c.messageId)) v.add("processId twice in the store", c.processId);
        seen.add(c.messageId);
        byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
        for (const e of c.events) events[e.type] = (events[e.type] ?? 0) + 1;
        const late = c.events.filter((e) => e.type === "late_reply").length;
        const dup = c.events.filter((e) => e.type === "duplicate_reply").length;
        // No device answers one request more than twice: more means two hubs recorded one reply.
        if (late > 1 || dup > 1) v.add("a reply recorded more than once", `${c.processId}: ${late} late, ${dup} duplicate`);
        if (c.batchId) {
          batchCalls++;
          checkTerminal(c, "batch call", v);
          continue;
        }
        const payload = Buffer.from(c.request.payloadBase64, "base64").toString();
        const s = payloads.get(payload);
        if (!s) {
          v.add("a call no request made", c.processId);
          continue;
        }
        if (c.reply && c.status === "success") {
          const reply = Buffer.from(c.reply.payloadBase64, "base64").toString();
          const other = payloads.get(reply);
          if (other && other !== s) v.add("a reply delivered to the wrong call", `${c.processId} got ${other.processId ?? other.payload}'s`);
        }
        if (s.processId !== undefined) {
          if (s.processId !== c.processId) v.add("a request with two calls", `${s.payload}: ${s.processId} and ${c.processId}`);
          ledger.compare(c, "GET /api/calls");
        } else if (s.lost) {
          lostFound++;
          (s as Sent).processId = c.processId;
          checkTerminal(c, "a call whose answer was lost with its hub", v);
        } else v.add("a call whose request was refused", c.processId);
      }
      before = page.nextBefore;
    } while (before);
    for (const id of ledger.ids()) if (!seen.has(id)) v.add("answered by the API but missing from the store", String(id));
    if (byStatus.pending) v.add("calls pending in the store", String(byStatus.pending));
    const lost = sent.filter((s) => s.lost).length;

    for (const [i, s] of slots.entries()) {
      outputs.push(`--- hub ${i} ---\n${s.server.output()}`);
    }
    const errors = outputs
      .join("\n")
      .split("\n")
      .filter((l) => l.includes('"level":"error"'));
    for (const e of errors) v.add("error logged by a hub", e.slice(0, 300));

    const m = machineInfo();
    const rows: [string, string][] = [
      ["hubs", `${o.hubs} (one PostgreSQL, one Mosquitto); lease ${o.leaseMs} ms`],
      ["requests sent", String(sent.length)],
      ["calls answered, per hub", `${made}: ${slots.map((s) => s.answered).join(" / ")}${o.kill ? ` (restarted hub: ${restartedAnswers})` : ""}`],
      ["duration, calls/s", `${elapsed.toFixed(1)} s, ${(made / elapsed).toFixed(0)}/s`],
      ["HTTP statuses", JSON.stringify(httpStatuses)],
      ["calls in the store (unique processIds)", `${seen.size} (batch calls ${batchCalls})`],
      ["per state (store)", JSON.stringify(byStatus)],
      ["answers lost with the killed hub; their calls found in the store, ended", `${lost}; ${lostFound}`],
      ["killed hub's calls ended after (ms)", String(takeoverMs ?? "-")],
      [
        "killed hub's batch",
        batchEnd
          ? `${(batchEnd as BatchJson).status}, unsent ${(batchEnd as BatchJson).unsent}, ${JSON.stringify((batchEnd as BatchJson).counts)}`
          : "-",
      ],
      ["store: extra events", ["late_reply", "duplicate_reply", "foreign_reply", "interrupted"].map((e) => `${e} ${events[e] ?? 0}`).join(", ")],
      ["device behaviours", JSON.stringify(devices.behaviours)],
      ["hub error log lines", String(errors.length)],
      ["violations", String(v.total)],
    ];
    const out = [`## rrpc-hub cluster soak, ${new Date().toISOString()}`, "", `${m.cpu} × ${m.cores}, Node ${m.node}; seed ${o.seed}`, ""];
    out.push(markdownTable(["figure", "value"], rows), "");
    if (v.total === 0) out.push("OK: no violations.");
    else {
      out.push(`FAILED: ${v.total} violation(s):`);
      for (const [kind, x] of v.byKind) out.push(`- ${kind}: ${x.count} (e.g. ${x.examples.join("; ")})`);
    }
    process.stdout.write(out.join("\n") + "\n");
    return v.total === 0 ? 0 : 1;
  } catch (err) {
    for (const [i, s] of slots.entries()) {
      const died = s.server.proc.exitCode !== null || s.server.proc.signalCode !== null;
      log(
        `--- hub ${i}${died ? ` (exited: ${s.server.proc.signalCode ?? s.server.proc.exitCode})` : ""}, last lines ---\n${s.server.output().split("\n").slice(-30).join("\n")}`,
      );
    }
    throw err;
  } finally {
    await Promise.all(fleets.map((f) => f.close()));
    for (const s of slots) {
      s.http.close();
      await s.server.stop();
    }
    await mosquitto?.stop();
    await pg?.stop();
  }
}
