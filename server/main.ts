/**
 * The one entry point of rrpc-hub. `npm start` runs its compiled form (dist/server.mjs, built by
 * `npm run build`); `npm run dev` runs it from the sources with Next.js in dev mode. It starts
 * the runtime (store, broker, hub, live feed, simulated device), then one HTTP server whose
 * single door (lib/server/http/node.ts) answers the API and hands pages to Next.js, and it owns
 * the process: signals and exit.
 */
import { createServer } from "node:http";
import next from "next";
import { loadConfig } from "../lib/server/config/config";
import { log } from "../lib/server/core/log";
import { LISTEN_BACKLOG } from "../lib/server/core/net";
import { createRequestListener } from "../lib/server/http/node";
import { createRuntime, type Runtime } from "../lib/server/runtime/runtime";

const dev = process.argv.includes("--dev");

async function main(): Promise<void> {
  let runtime: Runtime;
  try {
    runtime = await createRuntime(loadConfig());
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }

  // On exit nothing asynchronous completes: end what is in flight and write it, synchronously.
  process.once("exit", () => {
    const n = runtime.stopNow();
    if (n > 0) log.warn("calls in flight at exit marked interrupted", { count: n });
  });
  // Peers ended this hub's calls (its heartbeat was too old): it stops, to be restarted (docs/scale-out.md).
  void runtime.fenced.then(() => runtime.stop().finally(() => process.exit(1)));
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => void runtime.stop().finally(() => process.exit(0)));
  }

  const { httpHost: hostname, httpPort: port } = runtime.config;
  const app = next({ dev, hostname, port, dir: process.cwd() });
  await app.prepare();
  const server = createServer(createRequestListener(runtime, app.getRequestHandler()));
  if (dev) server.on("upgrade", app.getUpgradeHandler());
  server.on("error", (err) => {
    console.error(`rrpc-hub: cannot listen on ${hostname}:${port}: ${err.message}`);
    process.exit(1);
  });
  server.listen({ port, host: hostname, backlog: LISTEN_BACKLOG }, () => {
    const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
    console.log(`rrpc-hub ready${dev ? " (dev)" : ""}: dashboard and API on http://${shown}:${port}`);
  });
}

void main();
