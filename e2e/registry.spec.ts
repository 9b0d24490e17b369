import { startSimDevice } from "../lib/server/simulator/simulator";
import { test, expect, seriousViolations, PRODUCT } from "./fixtures";

test("register a device from the dashboard: the secret is shown once, the device connects with it, given a new secret, disabled (disconnected at once) and deleted", async ({
  page,
  url,
  request,
}) => {
  const name = `ui${Date.now() % 100000}`;
  await page.goto(url("/devices"));
  const form = page.getByRole("form", { name: "Register device" });
  await form.getByLabel("Product ID").fill(PRODUCT);
  await form.getByLabel("Device name").fill(name);
  await form.getByRole("button", { name: "Register device" }).click();
  const created = page.getByTestId("created-device");
  await expect(created).toContainText(`${PRODUCT}/${name}`);
  const secret = (await created.getByTestId("connect-device-secret").textContent())!;
  expect(Buffer.from(secret, "base64")).toHaveLength(16);
  await expect(created.getByTestId("connect-client-id")).toHaveText(`${PRODUCT}${name}`);
  await expect(created.getByTestId("connect-username")).toHaveText(new RegExp(`^${PRODUCT}${name};\\d+;[A-Za-z0-9]{5};\\d+$`));
  await expect(created.getByTestId("connect-password")).toHaveText(/^[0-9a-f]{64};hmacsha256$/);
  const info = JSON.parse((await created.getByTestId("connect-device-info").textContent())!) as {
    productId: string;
    deviceName: string;
    key_deviceinfo: { deviceSecret: string };
  };
  expect(info).toMatchObject({ productId: PRODUCT, deviceName: name, key_deviceinfo: { deviceSecret: secret } });

  // The device logs in with what the page showed, and answers a call.
  const d = await startSimDevice({ url: process.env.E2E_MQTT_URL!, productId: PRODUCT, deviceName: name, secret, reply: "hi" });
  const ok = await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: name, payload: "x" } });
  expect(((await ok.json()) as { reply: { payloadText: string } }).reply.payloadText).toBe("hi");
  await d.stop();

  // Later visits never show the secret again.
  await page.reload();
  const row = page.locator(`tr[data-device="${PRODUCT}/${name}"]`);
  await row.getByRole("button", { name: `Connect ${PRODUCT}/${name}` }).click();
  await expect(page.getByTestId("connect-device-info")).toContainText("shown once when the device was created");
  expect(await page.content()).not.toContain(secret);

  // A new secret is shown once; the connection made with the old one ends, and the old one no longer logs in.
  const withOld = await startSimDevice({ url: process.env.E2E_MQTT_URL!, productId: PRODUCT, deviceName: name, secret });
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: `New secret for ${PRODUCT}/${name}` }).click();
  const rotated = page.getByTestId("rotated-device");
  const newSecret = (await rotated.getByTestId("connect-device-secret").textContent())!;
  expect(Buffer.from(newSecret, "base64")).toHaveLength(16);
  expect(newSecret).not.toBe(secret);
  await expect.poll(() => withOld.client.connected).toBe(false);
  await withOld.stop();
  await rotated.getByRole("button", { name: "Done" }).click();

  // Disabling ends the device's connection at once, not only its next login.
  const withNew = await startSimDevice({ url: process.env.E2E_MQTT_URL!, productId: PRODUCT, deviceName: name, secret: newSecret });
  await row.getByRole("button", { name: `Disable ${PRODUCT}/${name}` }).click();
  await expect(row).toContainText("disabled");
  await expect.poll(() => withNew.client.connected).toBe(false);
  await withNew.stop();
  const off = await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: name, payload: "x" }, failOnStatusCode: false });
  expect(off.status()).toBe(409);
  expect(((await off.json()) as { error: { code: string } }).error.code).toBe("device_disabled");

  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: `Delete ${PRODUCT}/${name}` }).click();
  await expect(row.getByRole("button", { name: `Delete ${PRODUCT}/${name}` })).toHaveCount(0);
  const gone = await request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: name, payload: "x" }, failOnStatusCode: false });
  expect(((await gone.json()) as { error: { code: string } }).error.code).toBe("device_not_found");
});

test("the register form does not nag after a success, and an 'already exists' error goes once that device is deleted", async ({ page, url }) => {
  const name = `stale${Date.now() % 100000}`;
  await page.goto(url("/devices"));
  const form = page.getByRole("form", { name: "Register device" });
  await form.getByLabel("Product ID").fill(PRODUCT);
  await form.getByLabel("Device name").fill(name);
  await form.getByRole("button", { name: "Register device" }).click();
  await expect(page.getByTestId("created-device")).toContainText(`${PRODUCT}/${name}`);
  await expect(page.getByTestId("register-hint")).toHaveCount(0);

  await form.getByLabel("Device name").fill(name);
  await form.getByRole("button", { name: "Register device" }).click();
  const error = page.getByRole("alert").filter({ hasText: "Cannot register the device" });
  await expect(error).toContainText("already exists");
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: `Delete ${PRODUCT}/${name}` }).click();
  await expect(error).toHaveCount(0);
  await expect(form.getByRole("button", { name: "Register device" })).toBeEnabled();
});

test("create an API key (shown once), use it, revoke it", async ({ page, url }) => {
  await page.goto(url("/keys"));
  await page.getByLabel("Name (optional)").fill("e2e-key");
  await page.getByRole("button", { name: "Create key" }).click();
  const secretId = (await page.getByTestId("created-secretId").textContent())!;
  const secretKey = (await page.getByTestId("created-secretKey").textContent())!;
  expect(secretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
  const auth = { authorization: `Basic ${Buffer.from(`${secretId}:${secretKey}`).toString("base64")}` };
  expect((await fetch(url("/api/calls?limit=1"), { headers: auth })).status).toBe(200);

  await page.reload();
  const row = page.locator(`tr[data-secret-id="${secretId}"]`);
  await expect(row).toContainText("e2e-key");
  expect(await page.content()).not.toContain(secretKey);
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: `Revoke ${secretId}` }).click();
  await expect(row).toContainText("revoked");
  expect((await fetch(url("/api/calls?limit=1"), { headers: auth })).status).toBe(401);
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds no serious or critical violations on the sign-in page (${colorScheme})`, async ({ page, url }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto(url("/login"));
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
  });
}
