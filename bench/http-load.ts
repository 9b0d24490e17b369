/**
 * Child process: HTTP load with autocannon (programmatic API): POST /api/calls from
 * `concurrency` keep-alive connections, one request in flight each, devices round robin.
 * Latency comes from autocannon's per-response timing, counted inside the measured window.
 */
import autocannon from "autocannon";
import { benchPayloadText, deviceNames } from "./common";
import type { LoadResult, LoadSpec } from "./load";
import { serve } from "./proc";
import { Samples } from "./stats";

export type HttpRun = { url: string; productId: string; devices: number; spec: LoadSpec; timeoutMs: number; payloadBytes?: number };

const api = {
  run(r: HttpRun): Promise<LoadResult> {
    const names = deviceNames(r.devices);
    const payload = benchPayloadText(r.payloadBytes);
    let seq = 0;
    const samples = new Samples();
    const failureKinds: Record<string, number> = {};
    let failures = 0;
    const begin = performance.now();
    const from = begin + r.spec.warmupMs;
    const until = from + r.spec.durationMs;
    const inWindow = () => {
      const now = performance.now();
      return now >= from && now <= until;
    };
    const fail = (kind: string) => {
      failures++;
      failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
    };
    return new Promise((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${r.url}/api/calls`,
          method: "POST",
          connections: r.spec.concurrency,
          pipelining: 1,
          duration: (r.spec.warmupMs + r.spec.durationMs) / 1000,
          timeout: Math.ceil(r.timeoutMs / 1000) + 10,
          headers: { "content-type": "application/json" },
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({ productId: r.productId, deviceName: names[seq++ % names.length], payload, timeoutMs: r.timeoutMs }),
              }),
            },
          ],
        },
        (err) => {
          if (err) return reject(err);
          const latency = samples.summary();
          resolve({ calls: latency.count + failures, callsPerSecond: latency.count / (r.spec.durationMs / 1000), latency, failures, failureKinds });
        },
      );
      instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        if (!inWindow()) return;
        if (Number(statusCode) === 200) samples.add(responseTime);
        else fail(`http ${statusCode}`);
      });
      instance.on("reqError", (err: Error) => {
        if (inWindow()) fail(err.message);
      });
    });
  },
};
export type HttpLoadApi = typeof api;

serve(api);
