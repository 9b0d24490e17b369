/**
 * `npm start`: one process with the hub (broker, engine, store, simulated device) and the
 * dashboard. Next.js serves every page and route; `POST /api/calls` and Tencent's
 * PublishRRPCMessage, the hot paths for programs, are answered directly from node:http
 * (lib/server/fast-path.ts) with the same logic.
 */
import { createServer } from "node:http";
import next from "next";
import { getRuntime } from "./lib/server/runtime/runtime";
import { isCreateCall, isTencentCall, serveCreateCall, serveTencentCall } from "./lib/server/http/fast-path";

let rt;
try {
  rt = await getRuntime();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const { httpHost: hostname, httpPort: port } = rt.config;
const app = next({ dev: false, hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const runtime = rt;
const server = createServer((req, res) => {
  if (isCreateCall(req)) void serveCreateCall(runtime, req, res);
  else if (isTencentCall(req)) void serveTencentCall(runtime, req, res);
  else void handle(req, res);
});
server.on("error", (err) => {
  console.error(`rrpc-hub: cannot listen on ${hostname}:${port}: ${err.message}`);
  process.exit(1);
});
server.listen(port, hostname, () => {
  console.log(`rrpc-hub ready: dashboard and API on http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
});
