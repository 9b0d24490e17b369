/**
 * The dashboard's live timeline under a flood (`npm run bench -- --only ui`): the console open in
 * Chromium on the production server, an MQTT device repeating its answers to calls made
 * beforehand, at a rate set by the clock (the stream of e2e/dashboard.spec.ts's flood test). How
 * many MQTT messages a second the page ingested: its timeline counts them in `data-messages`.
 * Reported, never asserted; the offered rate, measured in the same run, is its baseline.
 */
import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";
import { startSimDevice } from "../lib/server/simulator/simulator";
import { replyTopic } from "../lib/rrpc/topics";
import type { ServerHandle } from "../lib/server/testing/servers";
import { benchPayloadText, inBatches, pacedStream } from "./common";
import { JsonClient } from "./http-client";

/** Debian's Chromium (Playwright's own browser download cannot work here); CHROMIUM_PATH overrides. */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** components/timeline.tsx's WINDOW_ROWS (that module is a client component: not imported here). */
const WINDOW_ROWS = 200;
const ROWS = '[data-testid="timeline"] tbody tr[data-process-id]';
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

export type UiIngestSpec = {
  /** Calls made first, one row each: more than the timeline's 200-row window. */
  calls: number;
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
    const before = await messages();
    const total = Math.round(spec.rate * spec.seconds);
    const reply = Buffer.from("again");
    const t0 = performance.now();
    const stream = await pacedStream(spec.rate, total, (i) =>
      sim.client.publish(replyTopic(productId, deviceName, made[i % made.length]!), reply, { qos: 0 }),
    );
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
