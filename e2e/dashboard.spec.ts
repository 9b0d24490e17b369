import { test, expect, openConsole, fillSendForm, seriousViolations, register, PRODUCT } from "./fixtures";
import { DEFAULT_TIMEOUT_MS, type CallJson } from "../lib/rrpc/types";
import type { Limits } from "../lib/rrpc/api";
import { inBatches, pacedStream } from "../bench/common";

const row = (page: import("@playwright/test").Page, processId: string) => page.locator(`[data-testid="timeline"] tr[data-process-id="${processId}"]`);

test("sends `closed` to airConditioner1 and shows `ok`, the processId and the round trip; the timeline row turns to success", async ({
  page,
  url,
}) => {
  await openConsole(page, url);
  await fillSendForm(page, "airConditioner1", "closed");
  await page.getByRole("button", { name: "Send command" }).click();
  const result = page.getByTestId("call-result");
  await expect(result.getByTestId("reply-payload")).toHaveText("ok");
  await expect(result.locator('[data-status="success"]')).toBeVisible();
  const processId = (await result.getByTestId("result-process-id").textContent())!;
  expect(processId).toMatch(/^[0-9]{10}$/);
  await expect(result.getByTestId("result-rtt")).toHaveText(/^[0-9.]+ (ms|s)$/);
  await expect(row(page, processId)).toHaveAttribute("data-status", "success");
});

test("a second browser context opened before the call sees it appear live; so does a call made over HTTP", async ({ page, browser, url }) => {
  const other = await browser.newContext();
  const watcher = await other.newPage();
  await openConsole(watcher, url);
  await openConsole(page, url);

  await fillSendForm(page, "airConditioner1", "from-the-form");
  await page.getByRole("button", { name: "Send command" }).click();
  const processId = (await page.getByTestId("result-process-id").textContent())!;
  await expect(row(watcher, processId)).toHaveAttribute("data-status", "success");
  await expect(row(watcher, processId)).toContainText("from-the-form");

  const r = await fetch(url("/api/calls"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT, deviceName: "airConditioner1", payload: "from-curl" }),
  });
  const call = (await r.json()) as { processId: string };
  await expect(row(watcher, call.processId)).toHaveAttribute("data-status", "success");
  await expect(row(watcher, call.processId)).toContainText("from-curl");
  await expect(row(page, call.processId)).toHaveAttribute("data-status", "success");
  await other.close();
});

test("a silent device shows pending, then timeout after its 4 s timeoutMs, live; a device that is not connected shows offline at once", async ({
  page,
  url,
  device,
}) => {
  test.setTimeout(120_000);
  await device("silentOne", { silent: true });
  await openConsole(page, url);

  const pending = fetch(url("/api/calls"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT, deviceName: "silentOne", payload: "anyone?" }),
  });
  const r = page.locator('[data-testid="timeline"] tr', { hasText: "silentOne" }).first();
  await expect(r).toHaveAttribute("data-status", "pending");
  await expect(r).toHaveAttribute("data-status", "timeout", { timeout: 60_000 });
  const answer = await pending;
  expect(answer.status).toBe(504);
  // When it timed out is the hub's own record of the call (its monotonic clock), not this test's.
  const { call } = (await answer.json()) as { call: CallJson };
  expect(await r.getAttribute("data-process-id")).toBe(call.processId);
  expect(call.status).toBe("timeout");
  expect(call.timeoutMs).toBe(DEFAULT_TIMEOUT_MS);
  expect(call.events.map((e) => e.type)).toEqual(["requested", "published", "delivered", "timeout"]);
  expect(call.events.at(-1)!.t).toBeGreaterThanOrEqual(DEFAULT_TIMEOUT_MS);

  await register("nobodyHome");
  await fillSendForm(page, "nobodyHome", "hello?");
  await page.getByRole("button", { name: "Send command" }).click();
  await expect(page.getByTestId("call-result").locator('[data-status="offline"]')).toBeVisible();
  const offlineId = (await page.getByTestId("result-process-id").textContent())!;
  await expect(row(page, offlineId)).toHaveAttribute("data-status", "offline");
  // At once: the broker knew the device was not connected, so nothing was published or waited for.
  const offline = (await (await fetch(url(`/api/calls/${offlineId}`))).json()) as CallJson;
  expect(offline.status).toBe("offline");
  expect(offline.events.map((e) => e.type)).toEqual(["requested", "offline"]);
});

test("the console states its limits: an over-limit payload and a bad timeout are refused before sending, with the API's own message; Enter in a one-line field does not send", async ({
  page,
  url,
  request,
}) => {
  const limits = (await (await request.get(url("/api/limits"))).json()) as Limits;
  await openConsole(page, url);
  const send = page.getByRole("button", { name: "Send command" });
  const why = page.getByTestId("send-disabled-why");

  const over = "x".repeat(limits.maxPayloadBytes + 1);
  await fillSendForm(page, "airConditioner1", over);
  await expect(page.getByTestId("payload-size")).toHaveText(`(${limits.maxPayloadBytes + 1} of at most ${limits.maxPayloadBytes} bytes)`);
  await expect(send).toBeDisabled();
  const api = await request.post(url("/api/calls"), {
    data: { productId: PRODUCT, deviceName: "airConditioner1", payload: over },
    failOnStatusCode: false,
  });
  expect(api.status()).toBe(413);
  const apiMessage = ((await api.json()) as { error: { message: string } }).error.message;
  await expect(why).toContainText(apiMessage);

  await page.getByLabel(/^Payload/).fill("closed");
  await page.getByLabel("Timeout (ms)").fill("50");
  await expect(send).toBeDisabled();
  await expect(why).toContainText(`Timeout: the timeout must be a whole number of ms from ${limits.minTimeoutMs} to ${limits.maxTimeoutMs}`);
  await page.getByLabel("Timeout (ms)").fill("4000");
  await expect(send).toBeEnabled();
  await expect(why).toHaveCount(0);

  // Enter in Product ID makes no call: the one call made is the one Send makes.
  const newest = async () => ((await (await request.get(url("/api/calls?limit=1"))).json()) as { calls: CallJson[] }).calls[0]?.processId ?? "0";
  const before = await newest();
  await page.getByLabel("Product ID").press("Enter");
  await send.click();
  const made = (await page.getByTestId("call-result").getByTestId("result-process-id").textContent())!;
  const page1 = (await (await request.get(url(`/api/calls?limit=5&before=${BigInt(made) + 1n}`))).json()) as { calls: CallJson[] };
  expect(page1.calls.filter((c) => BigInt(c.processId) > BigInt(before)).map((c) => c.processId)).toEqual([made]);
});

test("the call detail page shows the trace in order, and send again makes a new call", async ({ page, url }) => {
  await openConsole(page, url);
  await fillSendForm(page, "airConditioner1", '{"power":"off"}');
  await page.getByRole("radio", { name: "JSON" }).check();
  await page.getByLabel(/^Payload/).press("Control+Enter");
  const link = page.getByTestId("result-process-id");
  await expect(link).toHaveText(/^[0-9]{10}$/);
  const processId = (await link.textContent())!;
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/calls/${processId}$`));
  const events = page.getByTestId("trace").locator("li");
  await expect(events).toHaveCount(5);
  expect(await events.evaluateAll((els) => els.map((e) => e.getAttribute("data-event")))).toEqual([
    "requested",
    "published",
    "delivered",
    "replied",
    "success",
  ]);
  await expect(page.getByTestId("request-payload")).toContainText('"power": "off"');
  await page.getByRole("button", { name: "Send again" }).click();
  await expect(page).not.toHaveURL(new RegExp(`/calls/${processId}$`));
  const next = page.url().split("/").at(-1)!;
  expect(Number(next)).toBeGreaterThan(Number(processId));
  await expect(page.getByTestId("request-payload")).toContainText('"power": "off"');
  await expect(page.getByTestId("trace").locator('li[data-event="success"]')).toBeVisible();
});

test("history filters (kept in the URL, restored by Back) and CSV export return the calls just made; times show milliseconds", async ({
  page,
  url,
  request,
}) => {
  const marker = `hist-${Date.now()}`;
  const made: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: "airConditioner1", payload: `${marker}-${i}` } });
    made.push(((await r.json()) as { processId: string }).processId);
  }
  await register("ghostDevice");
  await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: "ghostDevice", payload: marker } });

  await page.goto(url("/history"));
  // The start of the name, in another case.
  await page.getByLabel("Device").fill("airconditioner");
  await page.getByLabel("Status").selectOption("success");
  await page.getByRole("button", { name: "Apply filters" }).click();
  for (const id of made) await expect(page.locator(`[data-testid="history"] tr[data-process-id="${id}"]`)).toBeVisible();
  await expect(page.locator('[data-testid="history"] tr', { hasText: "ghostDevice" })).toHaveCount(0);
  const { total } = (await (await request.get(url("/api/calls/count?deviceNamePrefix=airconditioner&status=success"))).json()) as { total: number };
  expect(total).toBeGreaterThanOrEqual(made.length);
  await expect(page.getByTestId("history-count")).toHaveText(new RegExp(`^${total} calls match these filters; \\d+ shown$`));
  // The filters are in the URL: another filter, then Back, returns to this view, form included.
  await expect(page).toHaveURL(/\/history\?deviceNamePrefix=airconditioner&status=success$/);
  await expect(page.locator(`[data-testid="history"] tr[data-process-id="${made[0]}"] td`).first()).toHaveText(/\d{2}:\d{2}:\d{2}[.,]\d{3}/);
  await page.getByLabel("Status").selectOption("timeout");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/status=timeout/);
  await expect(page.locator(`[data-testid="history"] tr[data-process-id="${made[0]}"]`)).toHaveCount(0);
  await page.goBack();
  await expect(page).toHaveURL(/\/history\?deviceNamePrefix=airconditioner&status=success$/);
  await expect(page.getByLabel("Status")).toHaveValue("success");
  await expect(page.getByLabel("Device")).toHaveValue("airconditioner");
  for (const id of made) await expect(page.locator(`[data-testid="history"] tr[data-process-id="${id}"]`)).toBeVisible();

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
  const csv = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString("utf8"));
  const lines = csv.trim().split("\r\n");
  expect(lines[0]).toBe(
    "processId,productId,deviceName,status,startedAt,endedAt,rttMs,timeoutMs,requestBase64,requestText,replyBase64,replyText,callerKind,callerId,callerName,batchId,commandId",
  );
  for (const [i, id] of made.entries()) {
    const line = lines.find((l) => l.startsWith(`${id},`));
    expect(line).toContain(`,success,`);
    expect(line).toContain(`${marker}-${i}`);
    expect(line).toContain(",b2s=,ok");
  }
  expect(csv).not.toContain("ghostDevice");
});

test("the timeline under a flood of 10,000 MQTT messages: counts them all, draws a window of 200 rows, a counter for the rest, and still filters", async ({
  page,
  url,
  device,
}) => {
  // How fast the page ingests is measured by `npm run bench -- --only ui` (bench/ui-ingest.ts), never asserted.
  test.setTimeout(240_000);
  const flood = await device("floodTarget");
  // On load the timeline shows the newest stored calls (at most 50), then every call made live.
  const stored = ((await (await fetch(url("/api/calls/count"))).json()) as { total: number }).total;
  await openConsole(page, url);
  const timeline = page.getByTestId("timeline");
  const notShown = `${Math.min(stored, 50) + 300 - 200} more not shown.`;
  await expect(page.locator('[data-testid="timeline"] tbody tr[data-process-id]')).toHaveCount(Math.min(stored, 50));

  // More calls than the window holds, so the page must show a counter for the rest.
  const made: string[] = [];
  await inBatches(300, 10, async () => {
    const r = await fetch(url("/api/calls"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId: PRODUCT, deviceName: "floodTarget", payload: "x" }),
    });
    made.push(((await r.json()) as { processId: string }).processId);
  });
  await expect(page.getByTestId("timeline-more")).toContainText(notShown, { timeout: 60_000 });
  await expect(page.locator('[data-testid="timeline"] tbody tr[data-process-id]')).toHaveCount(200);

  // Then a clock-paced stream of 2,000 messages/s for 5 s: the device repeats its answers.
  const total = 10_000;
  const before = Number(await timeline.getAttribute("data-messages"));
  await pacedStream(2000, total, (i) => flood.client.publish(`$rrpc/txd/${PRODUCT}/floodTarget/${made[i % made.length]}`, "again"));
  // The page also gets the hub's updates for these duplicate replies, so it counts at least `total`.
  await expect.poll(async () => Number(await timeline.getAttribute("data-messages")) - before, { timeout: 60_000 }).toBeGreaterThanOrEqual(total);
  await expect(page.locator('[data-testid="timeline"] tbody tr[data-process-id]')).toHaveCount(200);
  await expect(page.getByTestId("timeline-more")).toContainText(notShown);
  // Still interactive: a filter applies.
  await page.getByLabel("Filter by device").fill("airConditioner1");
  await expect(page.locator('[data-testid="timeline"] tbody tr', { hasText: "floodTarget" })).toHaveCount(0, { timeout: 60_000 });
  // Only its calls are left (those backfilled on load).
  await expect(page.locator('[data-testid="timeline"] tbody tr[data-process-id]').filter({ hasNotText: "airConditioner1" })).toHaveCount(0);
});

for (const [path, colorScheme] of ["/", "/history", "/devices", "/keys"].flatMap((p) => [[p, "light"] as const, [p, "dark"] as const])) {
  test(`axe finds no serious or critical violations on ${path} (${colorScheme})`, async ({ page, url }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto(url(path));
    await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
    expect(await seriousViolations(page)).toEqual([]);
  });
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds no serious or critical violations on a call's page (${colorScheme})`, async ({ page, url, request }) => {
    const r = await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: "airConditioner1", payload: "axe" } });
    const { processId } = (await r.json()) as { processId: string };
    await page.emulateMedia({ colorScheme });
    await page.goto(url(`/calls/${processId}`));
    await expect(page.getByTestId("trace").locator('li[data-event="success"]')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
  });
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`screenshot of the console after a call (${colorScheme})`, async ({ browser, url }, testInfo) => {
    const ctx = await browser.newContext({ colorScheme, viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await openConsole(page, url);
    await fillSendForm(page, "airConditioner1", "closed");
    await page.getByRole("button", { name: "Send command" }).click();
    await expect(page.getByTestId("reply-payload")).toHaveText("ok");
    const path = `test-results/screenshots/console-${colorScheme}.png`;
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach(`console-${colorScheme}`, { path, contentType: "image/png" });
    // The page follows prefers-color-scheme: a near-black background in dark mode, white in light.
    const lightness = await page.evaluate(() => {
      const c = document.createElement("canvas").getContext("2d")!;
      c.fillStyle = getComputedStyle(document.body).backgroundColor;
      c.fillRect(0, 0, 1, 1);
      const [r, g, b] = c.getImageData(0, 0, 1, 1).data;
      return (r! + g! + b!) / 3;
    });
    if (colorScheme === "dark") expect(lightness).toBeLessThan(40);
    else expect(lightness).toBeGreaterThan(240);
    await ctx.close();
  });
}
