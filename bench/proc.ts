/**
 * Child processes for the benchmarks: each role (broker, devices, requester, hub, load
 * generator) runs in its own Node process, forked with the tsx loader and driven over IPC
 * with a tiny request/answer protocol.
 */
import { fork, type ChildProcess } from "node:child_process";
import { cpus, platform, release, totalmem } from "node:os";
import { join } from "node:path";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take the params their callers pass
type Handler = (params: any) => unknown;
export type Api = Record<string, Handler>;

type Ask = { id: number; method: string; params: unknown };
type Answer = { id: number; result?: unknown; error?: string };
/** A process warning in a child (e.g. MaxListenersExceededWarning), forwarded to the parent. */
type Warning = { warning: string };

/** Child side: answers the parent's requests with these handlers; `onExit` runs when the parent lets go. */
export function serve(api: Api, onExit?: () => Promise<void> | void): void {
  if (!process.send) throw new Error("this file is a child process of the benchmarks: run `npm run bench` or `npm run soak`");
  process.on("warning", (w) => process.send?.({ warning: `${w.name}: ${w.message}` } satisfies Warning));
  process.on("message", (m: Ask) => {
    const handler = api[m.method];
    void (async () => {
      try {
        if (!handler) throw new Error(`no method ${m.method}`);
        const result = await handler(m.params);
        process.send?.({ id: m.id, result } satisfies Answer);
      } catch (err) {
        process.send?.({ id: m.id, error: (err as Error).stack ?? String(err) } satisfies Answer);
      }
    })();
  });
  process.once("disconnect", () => {
    void (async () => {
      try {
        await onExit?.();
      } finally {
        process.exit(0);
      }
    })();
  });
}

export type Child<A extends Api> = {
  proc: ChildProcess;
  pid: number;
  call<K extends keyof A & string>(method: K, ...params: Parameters<A[K]>): Promise<Awaited<ReturnType<A[K]>>>;
  /** Lets the child clean up and exit (killed after `graceMs`). */
  close(graceMs?: number): Promise<void>;
};

const warnings = new Map<string, number>();

/** Distinct process warnings the children emitted ("child: Name: message" → times). */
export function childWarnings(): Record<string, number> {
  return Object.fromEntries(warnings);
}

export type ForkOptions = { env?: Record<string, string>; execArgv?: string[] };

/** Forks bench/{name}.ts under tsx with an IPC channel; stdout/stderr are inherited. */
export function forkChild<A extends Api>(name: string, opts: ForkOptions = {}): Child<A> {
  const proc = fork(join(__dirname, `${name}.ts`), [], {
    // Warnings are forwarded over IPC instead (counted once per distinct message).
    execArgv: ["--import", "tsx", "--no-warnings", ...(opts.execArgv ?? [])],
    env: { ...process.env, RRPC_LOG_LEVEL: "warn", ...opts.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.on("message", (m: Answer | Warning) => {
    if ("warning" in m) {
      const key = `${name}: ${m.warning}`;
      if (!warnings.has(key)) process.stderr.write(`[${name}] ${m.warning}\n`);
      warnings.set(key, (warnings.get(key) ?? 0) + 1);
      return;
    }
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
    else w.resolve(m.result);
  });
  proc.once("exit", (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited (${signal ?? code}) during a request`));
    waiting.clear();
  });
  return {
    proc,
    pid: proc.pid ?? 0,
    call(method, ...params) {
      return new Promise((resolve, reject) => {
        if (!proc.connected) return reject(new Error(`${name} is not running`));
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ id, method, params: params[0] } satisfies Ask);
      });
    },
    async close(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (proc.connected) proc.disconnect();
      const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

const cleanups = new Set<() => Promise<void>>();
let handlersInstalled = false;

/**
 * Stops `x` (a server, a Mosquitto) if the run is interrupted (Ctrl-C, SIGTERM), so that nothing
 * outlives the benchmark on a shared machine. Forked children exit by themselves when the
 * parent goes; spawned servers do not.
 */
export function stopOnInterrupt<T extends { stop(): Promise<void> }>(x: T): T {
  const entry = () => x.stop();
  cleanups.add(entry);
  if (!handlersInstalled) {
    handlersInstalled = true;
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => {
        process.stderr.write(`${sig}: stopping servers and brokers\n`);
        void Promise.allSettled([...cleanups].map((stop) => stop())).then(() => process.exit(130));
      });
    }
  }
  return {
    ...x,
    async stop() {
      cleanups.delete(entry);
      await x.stop();
    },
  } as T;
}

export { rssOf } from "../lib/server/testing/servers";

export type MachineInfo = { cpu: string; cores: number; memoryBytes: number; node: string; os: string };

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memoryBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}
