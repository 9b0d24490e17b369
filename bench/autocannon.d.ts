/** The part of autocannon's programmatic API the benchmarks use (the package ships no types). */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  namespace autocannon {
    type Request = {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      /** Called before each request; returns the request to send. */
      setupRequest?: (req: Request, context: Record<string, unknown>) => Request;
      /** Called with each response's body (turns body capture on). */
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
    };
    type Options = {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** ms between samples; a run (stopped or timed out) ends at the next one. */
      sampleInt?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      requests?: Request[];
    };
    type Result = { errors: number; timeouts: number; non2xx: number; requests: { total: number } };
    type Instance = EventEmitter & { stop(): void };
  }
  function autocannon(opts: autocannon.Options, done?: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance;
  export = autocannon;
}
