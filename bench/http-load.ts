/**
 * Child process: HTTP load with autocannon (programmatic API): POST /api/calls from
 * `concurrency` keep-alive connections, one request in flight each, devices round robin.
 * Latency comes from autocannon's per-response timing, counted inside the measured window.
 */
import autocannon from "autocannon";
import { benchPayloadText, deviceNames } from "./common";
import { cpuWindow, type CpuWindow } from "./cpu";
import type { LoadResult, LoadSpec } from "./load";
import { serve } from "./proc";
import { Samples } from "./stats";
import { sdkServiceFor, signTc3 } from "../lib/server/tencent/tc3";

/** The share of the connections that must have had an answer before the measured window opens, and the longest it waits past the warm-up for them. */
const READY_SHARE = 0.9;
const READY_WAIT_MS = 1500;

export type HttpRun = {
  url: string;
  productId: string;
  devices: number;
  spec: LoadSpec;
  timeoutMs: number;
  payloadBytes?: number;
  /** Call through Tencent's PublishRRPCMessage (`POST /`, TC3-signed with this key) instead of POST /api/calls. */
  tencent?: { secretId: string; secretKey: string };
};

/**
 * PublishRRPCMessage requests as Tencent's SDK sends them, signed now. A signature covers the
 * body and the timestamp (whole seconds), so each distinct body is signed once a second and
 * sent as often as the devices' round robin comes back to it: signing every request made the
 * load generator, not the server, the limit of the `tencent` row (it cost more CPU per call
 * than the server). The server still checks every request's signature in full.
 */
function tencentSigner(url: string, key: { secretId: string; secretKey: string }) {
  const host = new URL(url).host;
  let second = -1;
  const signed = new Map<string, Record<string, string>>();
  return (body: string): Record<string, string> => {
    const timestamp = Math.floor(Date.now() / 1000);
    if (timestamp !== second) {
      second = timestamp;
      signed.clear();
    }
    let headers = signed.get(body);
    if (!headers) signed.set(body, (headers = tencentRequest(host, key, body, timestamp)));
    return headers;
  };
}

function tencentRequest(host: string, key: { secretId: string; secretKey: string }, body: string, timestamp: number): Record<string, string> {
  return {
    "content-type": "application/json",
    authorization: signTc3({ method: "POST", host, contentType: "application/json", body, timestamp, service: sdkServiceFor(host), ...key }),
    "x-tc-action": "PublishRRPCMessage",
    "x-tc-version": "2021-04-08",
    "x-tc-timestamp": String(timestamp),
    "x-tc-region": "ap-guangzhou",
  };
}

const api = {
  run(r: HttpRun): Promise<LoadResult> {
    const names = deviceNames(r.devices);
    const payload = benchPayloadText(r.payloadBytes);
    let seq = 0;
    const samples = new Samples();
    const failureKinds: Record<string, number> = {};
    let failures = 0;
    let tencentErrors = 0;
    const sign = r.tencent && tencentSigner(r.url, r.tencent);
    /** Successful calls so far (HTTP 200, and no Error envelope for tencent), in the window or not: for the CPU samples. */
    let successes = 0;
    const begin = performance.now();
    // The measured window opens once the warm-up has passed and nearly every connection has
    // had an answer: 1,000 connections take longer than a quick warm-up to open and make their
    // first request, and a window that counted their setup measured connecting (about twice
    // the CPU per call), not calls. The last few can take seconds (autocannon serves its early
    // connections first), so READY_SHARE of them is enough, and READY_WAIT_MS the longest wait.
    let from = Infinity;
    let until = Infinity;
    const answered = new Set<unknown>();
    const cpu = r.spec.cpuPids && cpuWindow(r.spec.cpuPids, () => successes);
    let closed: (() => void) | null = null;
    const openWindow = () => {
      from = performance.now();
      until = from + r.spec.durationMs;
      cpu?.open();
      setTimeout(() => closed?.(), r.spec.durationMs);
    };
    const ready = (client: unknown) => {
      if (from !== Infinity) return;
      answered.add(client);
      if (answered.size >= READY_SHARE * r.spec.concurrency && performance.now() - begin >= r.spec.warmupMs) openWindow();
    };
    // Past this, the window opens whatever the connections do (a stuck one must not stall the run).
    const latest = setTimeout(() => from === Infinity && openWindow(), r.spec.warmupMs + READY_WAIT_MS);
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
          url: r.tencent ? `${r.url}/` : `${r.url}/api/calls`,
          method: "POST",
          connections: r.spec.concurrency,
          pipelining: 1,
          // Stopped when the window closes (below); this is only the longest it may run.
          duration: (r.spec.warmupMs + READY_WAIT_MS + r.spec.durationMs) / 1000 + 1,
          // autocannon ends a run, stopped or timed out, only at its next sample tick: every
          // second by default, which added up to a second to every cell.
          sampleInt: 100,
          timeout: Math.ceil(r.timeoutMs / 1000) + 10,
          headers: { "content-type": "application/json" },
          requests: [
            {
              setupRequest: (req) => {
                const deviceName = names[seq++ % names.length]!;
                if (!sign) {
                  return { ...req, body: JSON.stringify({ productId: r.productId, deviceName, payload, timeoutMs: r.timeoutMs }) };
                }
                const body = JSON.stringify({ ProductId: r.productId, DeviceName: deviceName, Payload: payload });
                return { ...req, body, headers: sign(body) };
              },
              // Tencent's API answers errors with HTTP 200 and an Error envelope.
              onResponse: (status: number, body: string) => {
                const error = r.tencent !== undefined && body.includes('"Error"');
                if (Number(status) === 200 && !error) successes++;
                if (error && inWindow()) tencentErrors++;
              },
            },
          ],
        },
        (err) => {
          clearTimeout(latest);
          if (err) return reject(err);
          const latency = samples.summary();
          if (tencentErrors) failureKinds["tencent error envelope"] = tencentErrors;
          const ok = latency.count - tencentErrors;
          const result: LoadResult = {
            calls: latency.count + failures,
            callsPerSecond: ok / (r.spec.durationMs / 1000),
            latency,
            failures: failures + tencentErrors,
            failureKinds,
          };
          resolve(cpuOfWindow ? { ...result, cpu: cpuOfWindow } : result);
        },
      );
      let cpuOfWindow: CpuWindow | undefined;
      closed = () => {
        if (cpu) cpuOfWindow = cpu.close();
        instance.stop();
      };
      instance.on("response", (client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        ready(client);
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
