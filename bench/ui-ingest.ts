/**
 * The dashboard's live timeline under a flood (`npm run bench -- --only ui`): the console open in
 * Chromium on the production server, an MQTT device repeating its answers to calls made
 * beforehand, at a rate set by the clock (the stream of e2e/dashboard.spec.ts's flood test). How
 * many MQTT messages a second the page ingested: its timeline counts them in `data-messages`.
 * Reported, never asserted; the offered rate, measured in the same run, is its baseline.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chromium } from "@playwright/test";
import { startSimDevice } from "../lib/server/simulator/simulator";
import { replyTopic } from "../lib/rrpc/topics";
import type { ServerHandle } from "../lib/server/testing/servers";
import { benchPayloadText, inBatches, pacedStream } from "./common";
import { JsonClient } from "./http-client";
import { EXTRA_REPLIES_KEPT } from "../lib/server/calls/hub";
import { cpuMicrosOf } from "./cpu";

/** Debian's Chromium (Playwright's own browser download cannot work here); CHROMIUM_PATH overrides. */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** components/timeline.tsx's WINDOW_ROWS (that module is a client component: not imported here). */
const WINDOW_ROWS = 200;
const ROWS = '[data-testid="timeline"] tbody tr[data-process-id]';
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

export type UiIngestSpec = {
  /** Calls made first, one row each: more than the timeline's 200-row window. */
  calls: number;
  /**
   * The stream repeats the replies of this many of those calls, whose traces are filled first
   * (EXTRA_REPLIES_KEPT duplicates each, not measured): past that the hub counts a duplicate
   * without reading the call back from its store, so the server forwards the stream cheaply and
   * what is measured is the browser (docs/benchmarks.md, "Live timeline in Chromium").
   */
  floodCalls: number;
  /** The device's replies repeated: this many a second, for this long. */
  rate: number;
  seconds: number;
  /** How long after the stream to wait for the page to count everything. */
  waitMs: number;
};

export type UiIngestResult = UiIngestSpec & {
  /** Messages the device published, and the rate the clock-paced stream achieved (the baseline). */
  sent: number;
  offeredPerSecond: number;
  /** MQTT messages the page counted (the hub's feed updates included) from the first publish until it had counted `sent`, or until waitMs after the stream. */
  counted: number;
  elapsedS: number;
  messagesPerSecond: number;
  /** messagesPerSecond ÷ offeredPerSecond: at 1 or more the page kept up with the stream. */
  ratio: number;
  /** The page counted at least `sent` messages in time. */
  complete: boolean;
  browser: string;
  /** The page's long tasks (main thread, over 50 ms; PerformanceObserver "longtask") from the first publish until counted. */
  longTasks: { count: number; maxMs: number; totalMs: number };
  /** CPU time (ms) used over the same period: the production server and Chromium's processes by role (`renderer`: the page and its worker). */
  cpuMs: Record<string, number>;
};

/** `server` runs with its embedded broker; `device` is registered there with `secret`. */
export async function measureUiIngest(
  server: ServerHandle,
  device: { productId: string; deviceName: string; secret: string },
  spec: UiIngestSpec,
): Promise<UiIngestResult> {
  const { productId, deviceName } = device;
  const sim = await startSimDevice({ url: `mqtt://127.0.0.1:${server.mqttPort}`, productId, deviceName, secret: device.secret });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  const http = new JsonClient(server.url, 10);
  try {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: { start: number; ms: number }[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, ms: e.duration });
      }).observe({ type: "longtask", buffered: true });
    });
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid="live-indicator"][data-state="connected"]').waitFor({ timeout: 60_000 });

    const made: string[] = [];
    await inBatches(spec.calls, 10, async () => {
      const r = await http.post("/api/calls", { productId, deviceName, payload: benchPayloadText() });
      if (r.status !== 200) throw new Error(`POST /api/calls: ${r.status} ${JSON.stringify(r.body)}`);
      made.push((r.body as { processId: string }).processId);
    });
    // Every call has its row before the stream starts: the window and the counter for the rest.
    const rows = page.locator(ROWS);
    const windowRows = Math.min(spec.calls, WINDOW_ROWS);
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [ROWS, windowRows] as const, { timeout: 60_000 });
    if (spec.calls > WINDOW_ROWS)
      await page
        .getByTestId("timeline-more")
        .filter({ hasText: `${spec.calls - WINDOW_ROWS} more not shown` })
        .waitFor({ timeout: 60_000 });

    const timeline = page.getByTestId("timeline");
    const messages = async () => Number(await timeline.getAttribute("data-messages"));
    const reply = Buffer.from("again");
    const targets = made.slice(0, spec.floodCalls);
    const send = (i: number) => sim.client.publish(replyTopic(productId, deviceName, targets[i % targets.length]!), reply, { qos: 0 });
    const fill = targets.length * EXTRA_REPLIES_KEPT;
    const filled = (await messages()) + fill;
    await pacedStream(Math.min(spec.rate, 2000), fill, send);
    await page.waitForFunction(
      (target) => Number(document.querySelector('[data-testid="timeline"]')?.getAttribute("data-messages")) >= target,
      filled,
      { polling: 20, timeout: spec.waitMs },
    );
    // The hub's feed updates for the last of those duplicates come up to its flush period later.
    await new Promise((r) => setTimeout(r, 500));
    const before = await messages();
    const total = Math.round(spec.rate * spec.seconds);
    // A Chrome trace of the stream with V8's sampling profiler (every thread of the page's renderer: the page, its worker).
    const trace = process.env.UI_TRACE;
    if (trace)
      await browser.startTracing(page, { path: trace, categories: ["devtools.timeline", "disabled-by-default-v8.cpu_profiler", "v8.execute"] });
    const pageT0 = await page.evaluate(() => performance.now());
    const cpu = cpuByRole({ server: [server.proc.pid ?? 0], ...chromiumProcesses() });
    const t0 = performance.now();
    const stream = await pacedStream(spec.rate, total, send);
    const complete = await page
      .waitForFunction(
        (target) => Number(document.querySelector('[data-testid="timeline"]')?.getAttribute("data-messages")) >= target,
        before + total,
        { polling: 20, timeout: spec.waitMs },
      )
      .then(
        () => true,
        () => false,
      );
    const elapsedS = (performance.now() - t0) / 1000;
    const cpuMs = cpu();
    if (trace) await browser.stopTracing();
    const tasks = (await page.evaluate(() => (window as unknown as { __longTasks: { start: number; ms: number }[] }).__longTasks)).filter(
      (x) => x.start + x.ms >= pageT0,
    );
    const counted = (await messages()) - before;
    const shown = await rows.count();
    if (shown !== windowRows) throw new Error(`the timeline shows ${shown} rows after the stream, not ${windowRows}`);
    const offeredPerSecond = total / stream.seconds;
    const messagesPerSecond = counted / elapsedS;
    return {
      ...spec,
      sent: total,
      offeredPerSecond,
      counted,
      elapsedS,
      messagesPerSecond,
      ratio: messagesPerSecond / offeredPerSecond,
      complete,
      browser: browser.version(),
      longTasks: { count: tasks.length, maxMs: Math.max(0, ...tasks.map((x) => x.ms)), totalMs: tasks.reduce((a, x) => a + x.ms, 0) },
      cpuMs,
    };
  } finally {
    http.close();
    await browser.close();
    await sim.stop();
  }
}

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

/** pid → parent pid of every process (/proc/<pid>/stat field 4). */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      m.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  return m;
}

/**
 * Chromium's processes started by this process, by role: `browser` (no --type), `renderer` (the
 * page, its Web Worker threads included), `gpu-process`, `utility` (the network service), …
 */
export function chromiumProcesses(root = process.pid): Record<string, number[]> {
  const ppid = parents();
  const under = (pid: number) => {
    for (let p = ppid.get(pid); p !== undefined && p > 1; p = ppid.get(p)) if (p === root) return true;
    return false;
  };
  const roles: Record<string, number[]> = {};
  for (const pid of ppid.keys()) {
    if (!under(pid)) continue;
    let cmd: string;
    try {
      // Chromium rewrites its command line into one string: arguments are split by spaces here.
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (!/^\S*chrom/.test(cmd)) continue;
    const type = /--type=(\S+)/.exec(cmd)?.[1] ?? "browser";
    const sub = /--utility-sub-type=(?:\w+\.mojom\.)?(\w+)/.exec(cmd)?.[1];
    const role = type === "utility" && sub ? sub : type;
    (roles[role] ??= []).push(pid);
  }
  return roles;
}

/** CPU time (ms) each role's processes used between `start()` and `stop()`. */
export function cpuByRole(roles: Record<string, number[]>): () => Record<string, number> {
  const read = () => Object.fromEntries(Object.entries(roles).map(([r, pids]) => [r, pids.reduce((s, p) => s + (cpuMicrosOf(p) || 0), 0)]));
  const a = read();
  return () => {
    const b = read();
    return Object.fromEntries(Object.keys(b).map((r) => [r, (b[r]! - a[r]!) / 1000]));
  };
}
