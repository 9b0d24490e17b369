import { startSimDevice } from "../lib/server/simulator/simulator";
import { registerDevice } from "../lib/server/testing/servers";
import { test, expect, openConsole, seriousViolations } from "./fixtures";

/** Its own product: a limit on the shared AIRCOND001 would refuse other specs' calls. */
const P = "SMALLBUF01";
const REFUSAL = `the payload is 3000 bytes; product ${P} accepts at most 2048 (its devices' receive buffer)`;

test("a product's request limit set on the Devices page: the console refuses a larger payload before sending, and sends one within it", async ({
  page,
  url,
  request,
}) => {
  const name = `buf${Date.now() % 100000}`;
  const secret = await registerDevice({ url: process.env.E2E_BASE_URL! }, P, name);
  expect((await request.put(url(`/api/products/${P}`), { data: { maxRequestBytes: null } })).status()).toBe(200);
  const d = await startSimDevice({ url: process.env.E2E_MQTT_URL!, productId: P, deviceName: name, secret });
  try {
    await page.goto(url("/devices"));
    const row = page.locator(`tr[data-product="${P}"]`);
    await expect(row.getByTestId("product-limit")).toContainText("none (RRPC_MAX_PAYLOAD");
    await expect(page.getByTestId("product-limits")).toContainText("Tencent's C SDK default receive buffer is 2048 bytes");
    await row.getByLabel(`Request limit of ${P} in bytes`).fill("2048");
    await row.getByRole("button", { name: "Set" }).click();
    await expect(row.getByTestId("product-limit")).toHaveText("2048 bytes");
    const saved = (await (await request.get(url(`/api/products/${P}`))).json()) as { maxRequestBytes: number | null };
    expect(saved.maxRequestBytes).toBe(2048);

    await openConsole(page, url);
    const form = page.getByRole("form", { name: "Send command" });
    await form.getByLabel("Product ID").fill(P);
    await form.getByLabel("Device", { exact: false }).first().fill(name);
    await form.getByLabel(/^Payload/).fill("x".repeat(3000));
    await expect(page.getByTestId("payload-size")).toHaveText(`(3000 of at most 2048 bytes, ${P}'s request limit)`);
    await expect(form.getByRole("button", { name: "Send command" })).toBeDisabled();
    await expect(page.getByTestId("send-disabled-why")).toContainText(`Payload: ${REFUSAL}`);

    // Within the limit it is sent; the device has received that call only.
    await form.getByLabel(/^Payload/).fill("x".repeat(2048));
    await expect(page.getByTestId("payload-size")).toHaveText(`(2048 of at most 2048 bytes, ${P}'s request limit)`);
    await form.getByRole("button", { name: "Send command" }).click();
    await expect(page.getByTestId("reply-payload")).toHaveText("ok");
    expect(d.received).toBe(1);

    // The API says the same as the console.
    const refused = await request.post(url("/api/calls"), {
      data: { productId: P, deviceName: name, payload: "x".repeat(3000) },
      failOnStatusCode: false,
    });
    expect(refused.status()).toBe(413);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(REFUSAL);

    // Cleared on the Devices page: the console's limit is RRPC_MAX_PAYLOAD again.
    await page.goto(url("/devices"));
    await row.getByRole("button", { name: `Clear the request limit of ${P}` }).click();
    await expect(row.getByTestId("product-limit")).toContainText("none (RRPC_MAX_PAYLOAD");
    await openConsole(page, url);
    await form.getByLabel("Product ID").fill(P);
    await form.getByLabel("Device", { exact: false }).first().fill(name);
    await form.getByLabel(/^Payload/).fill("x".repeat(3000));
    await expect(page.getByTestId("payload-size")).toHaveText(/^\(3000 of at most \d+ bytes\)$/);
    await expect(form.getByRole("button", { name: "Send command" })).toBeEnabled();
  } finally {
    await d.stop();
  }
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds no serious or critical violations on the Devices page with a product's request limit (${colorScheme})`, async ({
    page,
    url,
    request,
  }) => {
    await registerDevice({ url: process.env.E2E_BASE_URL! }, P, `axe${colorScheme}${Date.now() % 100000}`);
    expect((await request.put(url(`/api/products/${P}`), { data: { maxRequestBytes: 2048 } })).status()).toBe(200);
    try {
      await page.emulateMedia({ colorScheme });
      await page.goto(url("/devices"));
      await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
      await expect(page.locator(`tr[data-product="${P}"]`).getByTestId("product-limit")).toHaveText("2048 bytes");
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await request.put(url(`/api/products/${P}`), { data: { maxRequestBytes: null } });
    }
  });
}
