/**
 * Profiles the engine path: Hub.call() load with the hub in THIS process, so that
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=bench-profiles bench/profile-engine.ts [--colocated]
 *   npx tsx bench/cpuprofile-top.ts bench-profiles/<file>.cpuprofile
 *
 * shows where the hub spends its time. Echo devices run in a child process; the embedded
 * broker runs in a child process too, or in this one with --colocated (the production layout).
 */
import { parseArgs } from "node:util";
import { startEmbeddedBroker } from "../lib/server/broker/embedded";
import { isObserver } from "../lib/server/runtime/runtime";
import { startMosquitto } from "../lib/server/testing/servers";
import { BENCH_PRODUCT } from "./common";
import type { EchoDevicesApi } from "./echo-devices";
import { engineLoad, startBenchHub } from "./engine-load";
import type { HubHostApi } from "./hub-host";
import { forkChild } from "./proc";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: "string", default: "100" },
      devices: { type: "string", default: "100" },
      seconds: { type: "string", default: "10" },
      colocated: { type: "boolean", default: false },
      mosquitto: { type: "boolean", default: false },
    },
  });
  const concurrency = Number(values.concurrency);
  const devices = Number(values.devices);
  const seconds = Number(values.seconds);

  const closers: (() => Promise<void>)[] = [];
  let url: string;
  let local;
  let brokerPid: number | undefined;
  if (values.mosquitto) {
    const m = await startMosquitto();
    brokerPid = m.proc.pid;
    closers.push(() => m.stop());
    url = m.url;
  } else if (values.colocated) {
    local = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, wsHost: "127.0.0.1", wsPort: 0, isObserver });
    closers.push(() => local!.close());
    url = `mqtt://127.0.0.1:${local.tcpPort}`;
  } else {
    const host = forkChild<HubHostApi>("hub-host");
    brokerPid = host.pid;
    closers.push(() => host.close());
    url = `mqtt://127.0.0.1:${(await host.call("startBroker")).port}`;
  }
  const fleet = forkChild<EchoDevicesApi>("echo-devices");
  closers.unshift(() => fleet.close());
  await fleet.call("connect", { url, productId: BENCH_PRODUCT, from: 0, count: devices });
  const bench = await startBenchHub(url, local);
  closers.unshift(() => bench.stop());

  const cpuPids: Record<string, number> = { hub: process.pid, devices: fleet.pid };
  if (brokerPid !== undefined) cpuPids.broker = brokerPid;
  const spec = { concurrency, warmupMs: 1000, durationMs: seconds * 1000, cpuPids };
  const r = await engineLoad(bench.hub, { productId: BENCH_PRODUCT, devices, spec, timeoutMs: 10_000, warmupCalls: 5000 });
  const layout = values.mosquitto ? "mosquitto" : values.colocated ? "embedded broker in this process" : "embedded broker in a child process";
  process.stdout.write(
    `engine (${layout}), ${devices} devices, ${concurrency} in flight: ${r.callsPerSecond.toFixed(0)} calls/s, ` +
      `p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms, failures ${r.failures}; ` +
      `CPU µs/call ${Object.entries(r.cpu!.us)
        .map(([role, us]) => `${role} ${(us / r.cpu!.calls).toFixed(1)}`)
        .join(", ")}\n`,
  );
  for (const close of closers) await close();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
