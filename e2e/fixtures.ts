import { test as base, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { startSimDevice, type SimDevice, type SimDeviceOptions } from "../lib/server/simulator/simulator";
import { registerDevice } from "../lib/server/testing/servers";

export const PRODUCT = "AIRCOND001";

type Fixtures = {
  url: (path: string) => string;
  /** Registers the device (if needed) and connects a simulated device with its secret. */
  device: (deviceName: string, opts?: Partial<SimDeviceOptions>) => Promise<SimDevice>;
};

const secrets = new Map<string, string>();

/** Registers a device through the API once per run; answers with its secret. */
export async function register(deviceName: string): Promise<string> {
  const known = secrets.get(deviceName);
  if (known) return known;
  const secret = await registerDevice({ url: process.env.E2E_BASE_URL! }, PRODUCT, deviceName);
  secrets.set(deviceName, secret);
  return secret;
}

export const test = base.extend<Fixtures>({
  url: async ({}, provide) => {
    const root = process.env.E2E_BASE_URL;
    if (!root) throw new Error("E2E_BASE_URL is not set: run through playwright.config.ts (global setup starts the server)");
    await provide((path) => root + path);
  },
  device: async ({}, provide) => {
    const started: SimDevice[] = [];
    await provide(async (deviceName, opts = {}) => {
      const secret = await register(deviceName);
      const d = await startSimDevice({ url: process.env.E2E_MQTT_URL!, productId: PRODUCT, deviceName, secret, ...opts });
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
