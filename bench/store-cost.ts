/**
 * The calls store's cost per call, SQLite next to PostgreSQL (docs/benchmarks.md, "Store cost"):
 * the CPU of the hub's process (process.cpuUsage: its threads, the SQLite writer thread
 * included) and, for PostgreSQL, of the server's processes (/proc/<pid>/stat of the postmaster
 * and its children), per call. Each call is what the hub writes of one: a processId, the call
 * saved pending, then saved with its outcome, answered once `written` resolves; `inFlight`
 * calls at a time.
 *   npm run bench:store [-- --calls 20000 --in-flight 200]
 * The PostgreSQL server is started here (Debian's postgresql, as the tests do), on a
 * temporary directory with fsync off: the figures compare CPU, not disks.
 */
import { readFileSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { SqliteCallStore, type CallStore } from "../lib/server/store/call-store";
import { PgCallStore } from "../lib/server/store/pg-store";
import { openPostgres } from "../lib/server/store/open";
import { startPostgres } from "../lib/server/testing/postgres";
import { tempDir } from "../lib/server/testing/servers";
import type { CallRecord } from "../lib/server/core/call";

const CLK_TCK = 100;

/** CPU seconds (user + system) of a process and its children, from /proc. */
function treeCpuSeconds(rootPid: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces) start after its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(entry);
    const ppid = Number(f[1]);
    if (pid === rootPid || ppid === rootPid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

type Hot = Pick<CallStore, "allocateProcessId" | "save" | "written" | "flush">;

/** No store at all: what this harness costs by itself, to be subtracted from the others. */
function noStore(): Hot {
  let id = 1_000_000_000;
  return {
    allocateProcessId: () => ({ processId: String(id), messageId: id++ }),
    save: () => {},
    written: () => Promise.resolve(),
    flush: () => Promise.resolve(),
  };
}

async function run(store: Hot, calls: number, inFlight: number): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < calls) {
      next++;
      const { processId, messageId } = store.allocateProcessId();
      const c: CallRecord = {
        processId,
        messageId,
        productId: "BENCH00001",
        deviceName: `d${messageId % 100}`,
        source: "api",
        status: "pending",
        request: Buffer.from("bench request payload"),
        timeoutMs: 4000,
        startedAt: Date.now(),
        events: [{ type: "requested", t: 0 }],
      };
      store.save(c);
      // The device's answer comes a turn of the event loop later.
      await new Promise((r) => setImmediate(r));
      c.status = "success";
      c.reply = Buffer.from("ok");
      c.endedAt = c.startedAt + 1;
      c.rttMs = 1;
      c.events.push({ type: "replied", t: 1, detail: { bytes: 2 } }, { type: "success", t: 1 });
      store.save(c);
      await store.written(c);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, one));
  await store.flush();
}

async function measure(name: string, store: Hot, calls: number, inFlight: number, server?: () => number) {
  await run(store, Math.min(2000, calls), inFlight); // warm-up
  const cpu0 = process.cpuUsage();
  const srv0 = server?.() ?? 0;
  const t0 = performance.now();
  await run(store, calls, inFlight);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const hubUs = (cpu.user + cpu.system) / calls;
  const srvUs = server ? ((server() - srv0) * 1e6) / calls : 0;
  return {
    store: name,
    calls,
    inFlight,
    callsPerSecond: Math.round(calls / wall),
    hubCpuUsPerCall: +hubUs.toFixed(1),
    serverCpuUsPerCall: +srvUs.toFixed(1),
  };
}

async function main() {
  const { values } = parseArgs({ options: { calls: { type: "string", default: "20000" }, "in-flight": { type: "string", default: "200" } } });
  const calls = Number(values.calls);
  const inFlight = Number(values["in-flight"]);
  const rows = [];
  rows.push(await measure("none (harness)", noStore(), calls, inFlight));

  const sqlite = SqliteCallStore.open(join(tempDir("rrpc-bench-"), "rrpc.db"));
  rows.push(await measure("sqlite", sqlite, calls, inFlight));
  await sqlite.close();

  const pg = await startPostgres();
  try {
    const url = await pg.createDatabase("rrpc_bench");
    const store = await PgCallStore.open(await openPostgres(url));
    const pid = postmasterPid(pg.dataDir);
    rows.push(await measure("postgres", store, calls, inFlight, () => treeCpuSeconds(pid)));
    await store.close();
  } finally {
    await pg.stop();
  }
  console.table(rows);
  const [none, s, p] = rows;
  const sqliteUs = s!.hubCpuUsPerCall - none!.hubCpuUsPerCall;
  const pgUs = p!.hubCpuUsPerCall - none!.hubCpuUsPerCall;
  console.log(
    `store CPU per call, the harness subtracted: SQLite ${sqliteUs.toFixed(1)} µs; PostgreSQL ${pgUs.toFixed(1)} µs in the hub ` +
      `(${(pgUs / sqliteUs).toFixed(2)}x) + ${p!.serverCpuUsPerCall} µs in the server (${((pgUs + p!.serverCpuUsPerCall) / sqliteUs).toFixed(2)}x in all)`,
  );
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
