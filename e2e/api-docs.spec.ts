import { test, expect, seriousViolations, PRODUCT } from "./fixtures";
import type { OpenApiDocument } from "../lib/rrpc/openapi-document";
import type { CallJson } from "../lib/rrpc/types";

test("the API page draws every operation of /api/openapi.json, with parameters, bodies and answers; the nav links to it", async ({
  page,
  url,
  request,
}) => {
  const doc = (await (await request.get(url("/api/openapi.json"))).json()) as OpenApiDocument;
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect(operations).toContain("POST /api/calls");

  await page.goto(url("/"));
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API", exact: true }).click();
  await expect(page).toHaveURL(/\/api-docs$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("rrpc-hub API");
  const drawn = await page.locator("[data-operation]").evaluateAll((els) => els.map((e) => e.getAttribute("data-operation")));
  expect(drawn.sort()).toEqual(operations.sort());

  // Operations are folded; a summary unfolds one.
  const call = page.locator('[data-operation="POST /api/calls"]');
  await expect(call.getByRole("heading", { level: 3 })).toContainText("Call a device and wait for the outcome");
  await expect(call.getByText("Request body application/json")).toBeHidden();
  await call.locator("summary").click();
  await expect(call).toContainText("Request body application/json");
  await expect(call).toContainText("timeoutMs?");
  await expect(call).toContainText("100..300000");
  for (const status of ["200", "400", "404", "409", "504"]) await expect(call.locator(`[data-status-code="${status}"]`)).toBeVisible();
  await expect(call.locator('[data-status-code="504"]')).toContainText("timeout");
  const getCall = page.locator('[data-operation="GET /api/calls/{processId}"]');
  await getCall.locator("summary").click();
  await expect(getCall.getByRole("cell", { name: "processId", exact: true })).toBeVisible();
  // A $ref is a link to its schema.
  await call.locator('[data-status-code="200"]').getByRole("link", { name: "Call" }).click();
  await expect(page).toHaveURL(/#schema-Call$/);
  // …which unfolds it.
  await expect(page.locator("#schema-Call").getByText("messageId", { exact: true })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Error codes" })).toBeVisible();
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds no serious or critical violations on /api-docs (${colorScheme})`, async ({ browser, url }, testInfo) => {
    const ctx = await browser.newContext({ colorScheme, viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await page.emulateMedia({ colorScheme });
    await page.goto(url("/api-docs"));
    test.setTimeout(90_000);
    // Unfolded: an operation with every kind of part, and a schema.
    await page.locator('[data-operation="POST /api/calls"] summary').click();
    await page.locator('[data-operation="GET /api/calls"] summary').click();
    await page.locator("#schema-Call summary").click();
    await expect(page.locator('[data-operation="POST /api/calls"] [data-status-code="200"]')).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    const path = `test-results/screenshots/api-docs-${colorScheme}.png`;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path });
    await testInfo.attach(`api-docs-${colorScheme}`, { path, contentType: "image/png" });
    await ctx.close();
  });
}

for (const colorScheme of ["light", "dark"] as const) {
  test(`a call's page copies the request that repeats it: as curl and as a Tencent SDK call; axe-clean (${colorScheme})`, async ({
    browser,
    url,
    request,
  }, testInfo) => {
    test.setTimeout(90_000);
    const payload = `copy me ${Date.now()}`;
    const r = await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: "airConditioner1", payload, timeoutMs: 3000 } });
    const call = (await r.json()) as CallJson;
    const ctx = await browser.newContext({ colorScheme, permissions: ["clipboard-read", "clipboard-write"] });
    const page = await ctx.newPage();
    await page.goto(url(`/calls/${call.processId}`));
    await expect(page.getByTestId("trace").locator('li[data-event="success"]')).toBeVisible();

    await page.getByRole("button", { name: "Copy as curl" }).click();
    await expect(page.getByRole("button", { name: "Copy as curl" })).toHaveText("Copied");
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    expect(curl).toContain(`curl -sS -X POST '${url("/api/calls")}'`);
    expect(curl).toContain(`"payload":"${payload}"`);
    expect(curl).toContain('"timeoutMs":3000');

    await page.getByRole("button", { name: "Copy as Tencent SDK call" }).click();
    const sdk = await page.evaluate(() => navigator.clipboard.readText());
    expect(sdk).toContain("PublishRRPCMessage(");
    expect(sdk).toContain(`Payload: "${payload}"`);
    expect(sdk).toContain(`endpoint: "${new URL(url("/")).host}"`);
    expect(sdk).toContain('secretKey: "YOUR_SECRET_KEY"');

    await page.getByText("Show the code").click();
    await expect(page.getByTestId("repeat-curl")).toHaveText(curl);
    expect(await seriousViolations(page)).toEqual([]);
    const path = `test-results/screenshots/call-repeat-${colorScheme}.png`;
    await page.screenshot({ path, fullPage: true });
    await testInfo.attach(`call-repeat-${colorScheme}`, { path, contentType: "image/png" });
    await ctx.close();
  });
}
