/**
 * The Overview and a device's page in the browser: after calls through simulated devices, the
 * charts are drawn (in the theme's colours), their table views hold exactly what GET /api/stats
 * says for the page's own window, the device tables name the devices, and axe finds nothing
 * serious in light or dark mode.
 */
import { test, expect, seriousViolations, PRODUCT } from "./fixtures";
import type { Page } from "@playwright/test";
import { TERMINAL_STATUSES } from "../lib/rrpc/types";
import type { CallStats, DeviceStatsRanking } from "../lib/rrpc/api";
import { registerDevice, startServer } from "../lib/server/testing/servers";
import { startSimDevice, type SimDevice, type SimDeviceOptions } from "../lib/server/simulator/simulator";

/**
 * A hub of its own: the fleet-wide rankings must hold only this test's devices (the shared
 * server's other specs make slow and failing calls of their own).
 */
async function ownHub() {
  const s = await startServer({ RRPC_SIMULATOR: "0" });
  const sims: SimDevice[] = [];
  return {
    url: (p: string) => s.url + p,
    async device(deviceName: string, opts: Partial<SimDeviceOptions> = {}) {
      const secret = await registerDevice(s, PRODUCT, deviceName);
      sims.push(await startSimDevice({ url: `mqtt://127.0.0.1:${s.mqttPort}`, productId: PRODUCT, deviceName, secret, ...opts }));
    },
    async stop() {
      for (const d of sims) await d.stop();
      await s.stop();
    },
  };
}

/** As the dashboard shows a duration (components/call-result.tsx). */
function formatMs(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

async function call(url: (p: string) => string, deviceName: string, payload: string, timeoutMs?: number) {
  const r = await fetch(url("/api/calls"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT, deviceName, payload, timeoutMs }),
  });
  await r.arrayBuffer();
  return r.status;
}

/** GET a JSON answer of the API. */
async function get<T>(url: (p: string) => string, path: string): Promise<T> {
  const r = await fetch(url(path));
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

/** Every cell of a table's body, row by row. */
const cells = (page: Page, testId: string) =>
  page
    .getByTestId(testId)
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")));

/**
 * The charts' table views against the API for the window they show (read from the panel; it
 * moves every 10 s: checked again until one window holds still for the whole comparison).
 */
async function expectTablesMatchApi(page: Page, url: (p: string) => string, device: { productId?: string; deviceName?: string } = {}) {
  const panel = page.getByTestId("stats-panel");
  await expect(panel).toHaveAttribute("data-loaded", "true");
  await expect(async () => {
    const [from, to, bucket] = await Promise.all(["data-from", "data-to", "data-bucket"].map((a) => panel.getAttribute(a)));
    const q = new URLSearchParams({ from: from!, to: to!, bucket: bucket!, ...device }).toString();
    const stats = await get<CallStats>(url, `/api/stats?${q}`);
    const shown = TERMINAL_STATUSES.filter((s) => s === "success" || stats.buckets.some((b) => b[s] > 0));
    expect(await cells(page, "calls-chart-table")).toEqual(stats.buckets.map((b) => shown.map((s) => String(b[s]))));
    expect(await cells(page, "latency-chart-table")).toEqual(stats.buckets.map((b) => [b.p50, b.p95, b.p99].map(formatMs)));
    const whole = await get<CallStats>(
      url,
      `/api/stats?${new URLSearchParams({ from: from!, to: to!, bucket: String((Number(to) - Number(from)) / 1000), ...device })}`,
    );
    await expect(page.getByTestId("stat-calls")).toHaveText(String(whole.buckets[0]!.calls));
    await expect(page.getByTestId("stat-p95")).toHaveText(formatMs(whole.buckets[0]!.p95));
    expect(await panel.getAttribute("data-from")).toBe(from);
  }).toPass({ timeout: 30_000 });
}

/** How many pixels of the chart's canvas have about this colour (#rrggbb). */
async function pixelsOf(page: Page, testId: string, hex: string): Promise<number> {
  return page
    .getByTestId(testId)
    .locator("canvas")
    .evaluate((canvas: HTMLCanvasElement, color) => {
      const want = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && want.every((w, k) => Math.abs(data[i + k]! - w) <= 24)) n++;
      return n;
    }, hex);
}

/** Both charts drawn, with the success line and the percentiles' points in the theme's colours (components/stats-panel.tsx). */
async function expectChartsDrawn(page: Page, colorScheme: "light" | "dark") {
  for (const id of ["calls-chart", "latency-chart"]) {
    await expect(page.getByTestId(id).locator("[data-chart-drawn]")).toHaveAttribute("data-chart-drawn", "true");
    await expect(page.getByTestId(id).locator("canvas")).toHaveCount(1);
  }
  expect(Number(await page.getByTestId("latency-chart").locator("[data-points]").getAttribute("data-points"))).toBeGreaterThan(0);
  const dark = colorScheme === "dark";
  await expect.poll(() => pixelsOf(page, "calls-chart", dark ? "#34d399" : "#047857")).toBeGreaterThan(20);
  // p50, p95 and p99 points (one may hide another where they are equal).
  const percentiles = dark ? ["#7dd3fc", "#c4b5fd", "#fb7185"] : ["#0369a1", "#6d28d9", "#be123c"];
  await expect
    .poll(async () => (await Promise.all(percentiles.map((c) => pixelsOf(page, "latency-chart", c)))).reduce((a, b) => a + b))
    .toBeGreaterThan(4);
}

/** Opens every chart's table view, so that axe checks the tables too. */
async function openTableViews(page: Page) {
  for (const summary of await page.locator("figure details summary").all()) await summary.click();
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`the overview charts calls by status and round trips, and names the slowest and failing devices (${colorScheme})`, async ({
    browser,
  }, testInfo) => {
    test.setTimeout(90_000);
    const hub = await ownHub();
    const { url, device } = hub;
    const ok = `ovOk${colorScheme}`;
    const slow = `ovSlow${colorScheme}`;
    const silent = `ovSilent${colorScheme}`;
    await device(ok);
    await device(slow, { delayMs: 300 });
    await device(silent, { silent: true });
    for (let i = 0; i < 5; i++) expect(await call(url, ok, `n${i}`)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await call(url, slow, `s${i}`)).toBe(200);
    for (let i = 0; i < 3; i++) expect(await call(url, silent, `t${i}`, 100)).toBe(504);

    const ctx = await browser.newContext({ colorScheme, viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(url("/overview"));
    await expect(page.getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");
    await expectChartsDrawn(page, colorScheme);
    await expectTablesMatchApi(page, url);

    // The device tables are the API's ranking for the same window.
    const panel = page.getByTestId("stats-panel");
    await expect(async () => {
      const q = `from=${await panel.getAttribute("data-from")}&to=${await panel.getAttribute("data-to")}&limit=10`;
      const ranking = await get<DeviceStatsRanking>(url, `/api/stats/devices?${q}`);
      const key = (d: { productId: string; deviceName: string }) => `${d.productId}/${d.deviceName}`;
      expect(
        await page
          .getByTestId("slowest-devices")
          .locator("tbody tr")
          .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-device"))),
      ).toEqual(ranking.slowest.map(key));
      expect(
        await page
          .getByTestId("failing-devices")
          .locator("tbody tr")
          .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-device"))),
      ).toEqual(ranking.failing.map(key));
    }).toPass({ timeout: 30_000 });
    const slowRow = page.locator(`[data-testid="slowest-devices"] tr[data-device="${PRODUCT}/${slow}"]`);
    await expect(slowRow.locator("td").nth(1)).toHaveText("2");
    const failingRow = page.locator(`[data-testid="failing-devices"] tr[data-device="${PRODUCT}/${silent}"]`);
    await expect(failingRow.locator("td").nth(2)).toHaveText("3");
    await expect(failingRow.locator("td").nth(3)).toHaveText("100.0%");

    const path = `test-results/screenshots/overview-${colorScheme}.png`;
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach(`overview-${colorScheme}`, { path, contentType: "image/png" });

    await openTableViews(page);
    await expect(page.getByTestId("calls-chart-table")).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);

    // A device's name leads to its page.
    await failingRow.getByRole("link").click();
    await expect(page).toHaveURL(new RegExp(`/devices/${PRODUCT}/${silent}$`));
    await expect(page.getByTestId("stat-failures")).toHaveText("3");
    await ctx.close();
    await hub.stop();
  });
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`a device's page: online state, its calls and round trips, online history, and a console link prefilled (${colorScheme})`, async ({
    page,
    url,
    device,
  }) => {
    test.setTimeout(90_000);
    const name = `devPage${colorScheme}`;
    await device(name);
    for (let i = 0; i < 4; i++) expect(await call(url, name, `d${i}`)).toBe(200);

    await page.emulateMedia({ colorScheme });
    await page.goto(url("/devices"));
    await page.getByRole("link", { name: `${PRODUCT}/${name}` }).click();
    await expect(page).toHaveURL(new RegExp(`/devices/${PRODUCT}/${name}$`));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`${PRODUCT}/${name}`);
    await expect(page.getByTestId("device-state").locator("[data-online]")).toHaveAttribute("data-online", "online");
    await expect(page.getByTestId("stat-calls")).toHaveText("4");
    await expect(page.getByTestId("stat-success-rate")).toHaveText("100.0%");
    await expect(page.getByTestId("stat-failures")).toHaveText("0");
    await expectChartsDrawn(page, colorScheme);
    await expectTablesMatchApi(page, url, { productId: PRODUCT, deviceName: name });
    await expect(page.locator('[data-testid="device-calls"] tbody tr[data-process-id]')).toHaveCount(4);
    await expect(page.locator('[data-testid="device-calls"] [data-status="success"]')).toHaveCount(4);
    await expect(page.getByTestId("online-history").locator("li").first().locator("[data-online]")).toHaveAttribute("data-online", "online");

    await openTableViews(page);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole("link", { name: "Call this device" }).click();
    await expect(page).toHaveURL(new RegExp(`/\\?productId=${PRODUCT}&deviceName=${name}$`));
    await expect(page.getByLabel("Product ID")).toHaveValue(PRODUCT);
    await expect(page.getByLabel("Device", { exact: false }).first()).toHaveValue(name);
  });
}
