import { test as base, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { startSimDevice, type SimDevice, type SimDeviceOptions } from "../lib/device/simulator";

export const PRODUCT = "AIRCOND001";

type Fixtures = {
  url: (path: string) => string;
  device: (deviceName: string, opts?: Partial<SimDeviceOptions>) => Promise<SimDevice>;
};

export const test = base.extend<Fixtures>({
  url: async ({}, provide) => {
    const root = process.env.E2E_BASE_URL;
    if (!root) throw new Error("E2E_BASE_URL is not set: run through playwright.config.ts (global setup starts the server)");
    await provide((path) => root + path);
  },
  device: async ({}, provide) => {
    const started: SimDevice[] = [];
    await provide(async (deviceName, opts = {}) => {
      const d = await startSimDevice({ url: process.env.E2E_MQTT_URL!, productId: PRODUCT, deviceName, ...opts });
      started.push(d);
      return d;
    });
    for (const d of started) await d.stop();
  },
});

export { expect };

/** Opens the console and waits until its live connection is up. */
export async function openConsole(page: Page, url: (p: string) => string) {
  await page.goto(url("/"));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
}

export async function fillSendForm(page: Page, deviceName: string, payload: string, timeoutMs?: number) {
  await page.getByLabel("Product ID").fill(PRODUCT);
  await page.getByLabel("Device", { exact: false }).first().fill(deviceName);
  await page.getByLabel(/^Payload/).fill(payload);
  if (timeoutMs) await page.getByLabel("Timeout (ms)").fill(String(timeoutMs));
}

export async function seriousViolations(page: Page) {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
