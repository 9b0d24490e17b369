/**
 * Fleet operations in the dashboard: saved commands made on the Commands page, run from the
 * console with their generated form, and run as a batch on devices picked on the Devices page,
 * watched live to the end; Retry failed. Its own product (other specs use AIRCOND001): 48
 * devices that answer, one silent, one registered but never connected.
 */
import type { Page } from "@playwright/test";
import { test, expect, openConsole, seriousViolations } from "./fixtures";
import { startSimDevice, type SimDevice } from "../lib/server/simulator/simulator";
import type { BatchJson, Command } from "../lib/rrpc/api";
import type { CallJson } from "../lib/rrpc/types";
import { parseRrpcTopic, replyTopic } from "../lib/rrpc/topics";

const P = "FLEETE2E01";
const COUNT = 50;
const names = Array.from({ length: COUNT }, (_, i) => `fleet${String(i + 1).padStart(2, "0")}`);
const SILENT = names[COUNT - 2]!;
const NEVER_CONNECTED = names[COUNT - 1]!;
const base = () => process.env.E2E_BASE_URL!;

async function post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(base() + path, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as T };
}

/** Registers the device, or gives it a new secret if a previous worker of this run registered it. */
async function secretFor(deviceName: string, productId = P): Promise<string> {
  const created = await post<{ secret: string }>("/api/devices", { productId, deviceName });
  if (created.status === 201) return created.body.secret;
  const rekeyed = await post<{ secret: string }>(`/api/devices/${productId}/${deviceName}/secret`);
  expect(rekeyed.status).toBe(200);
  return rekeyed.body.secret;
}

const sims: SimDevice[] = [];

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const secrets = new Map<string, string>();
  for (const n of names) secrets.set(n, await secretFor(n));
  // One MQTT.js client each, ten at a time; the last device stays registered but never connects.
  const connected = names.filter((n) => n !== NEVER_CONNECTED);
  for (let i = 0; i < connected.length; i += 10) {
    sims.push(
      ...(await Promise.all(
        connected.slice(i, i + 10).map((deviceName) =>
          startSimDevice({
            url: process.env.E2E_MQTT_URL!,
            productId: P,
            deviceName,
            secret: secrets.get(deviceName)!,
            silent: deviceName === SILENT,
          }),
        ),
      )),
    );
  }
});

test.afterAll(async () => {
  for (const d of sims.splice(0)) await d.stop();
});

async function waitLive(page: Page) {
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
}

const counts = (page: Page) => page.getByTestId("batch-counts");
async function expectCounts(page: Page, expected: Record<string, number>) {
  for (const [status, n] of Object.entries(expected))
    await expect(counts(page).locator(`[data-outcome="${status}"]`)).toHaveAttribute("data-count", String(n));
  await expect(counts(page).locator("li[data-outcome]")).toHaveCount(Object.keys(expected).length);
}

test("a command made on the Commands page runs on 50 devices picked on the Devices page: progress to 100 % live, 48 success / 1 timeout / 1 offline; Retry failed runs the 2 again", async ({
  page,
  browser,
  url,
}) => {
  test.setTimeout(180_000);
  const name = `Set mode ${Date.now()}`;

  // ---- The Commands page: a template with two parameters, checked as it is typed.
  await page.goto(url("/commands"));
  await page.getByRole("link", { name: "New command" }).click();
  const form = page.getByRole("form", { name: "New command" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  await form.getByLabel("Product ID (optional)").fill(P);
  await form.getByLabel("Payload template").fill('{"cmd":"set","t":{{t}},"mode":"{{mode}}"}');
  await expect(form.locator("[data-field-error]", { hasText: "{{t}} is not a declared parameter" })).toBeVisible();
  const create = form.getByRole("button", { name: "Create command" });
  await expect(create).toBeDisabled();

  await form.getByRole("button", { name: "Add parameter" }).click();
  const p1 = form.getByRole("group", { name: "Parameter 1", exact: true });
  await p1.getByLabel("Name", { exact: true }).fill("t");
  await p1.getByLabel("Type").selectOption("number");
  await p1.getByLabel("Min").fill("16");
  await p1.getByLabel("Max").fill("10");
  await expect(p1.locator("[data-field-error]", { hasText: "max is below min" })).toBeVisible();
  await p1.getByLabel("Max").fill("30");
  await expect(p1.locator("[data-field-error]", { hasText: "max is below min" })).toHaveCount(0);

  await form.getByRole("button", { name: "Add parameter" }).click();
  const p2 = form.getByRole("group", { name: "Parameter 2", exact: true });
  await p2.getByLabel("Name", { exact: true }).fill("mode");
  await p2.getByLabel("Type").selectOption("enum");
  await expect(p2.locator("[data-field-error]", { hasText: "an enum needs values" })).toBeVisible();
  await p2.getByLabel("Values").fill("eco, boost");
  await p2.getByLabel("Default").selectOption("eco");
  await form.getByLabel("Timeout (ms, optional)").fill("1000");
  await expect(form.getByTestId("save-disabled-why")).toHaveCount(0);
  await create.click();
  await expect(page).toHaveURL(/\/commands$/);
  const listed = page.locator('[data-testid="commands"] tr', { hasText: name });
  await expect(listed).toContainText("t: number 16–30");
  await expect(listed).toContainText('mode: enum eco|boost = "eco"');

  // A second command of the same name (in another case): the hub's 409 shows on the Name field.
  await page.goto(url("/commands/new"));
  const again = page.getByRole("form", { name: "New command" });
  await again.getByLabel("Name", { exact: true }).fill(name.toUpperCase());
  await again.getByLabel("Payload template").fill("ping");
  await again.getByRole("button", { name: "Create command" }).click();
  await expect(again.locator("[data-field-error]", { hasText: "already taken" })).toBeVisible();
  await expect(again.getByRole("alert")).toContainText("already exists");

  // ---- A second operator on the Batches page before the batch starts: from then on its page
  // gets nothing over HTTP about batches, so what it shows comes from the live feed alone.
  const otherContext = await browser.newContext();
  const watcher = await otherContext.newPage();
  await watcher.goto(url("/batches"));
  await waitLive(watcher);
  await expect(watcher.locator('[data-testid="batches"] tbody tr').first()).toBeVisible();
  let httpCut = false;
  await watcher.route(/\/api\/batches/, (route) => (httpCut ? route.abort() : route.continue()));
  httpCut = true;

  // ---- The Devices page: the whole product, then only the online ones, then all 50 again.
  await page.goto(url("/devices"));
  await waitLive(page);
  const toolbar = page.getByRole("toolbar", { name: "Selection" });
  await toolbar.getByLabel("Product", { exact: true }).selectOption(P);
  await expect(page.locator(`tr[data-device="${P}/${NEVER_CONNECTED}"] [data-online="offline"]`)).toBeVisible();
  await toolbar.getByLabel("Only online").check();
  await toolbar.getByRole("button", { name: "Select all of this product" }).click();
  await expect(page.getByTestId("selected-count")).toHaveText(`${COUNT - 1} selected`);
  await expect(page.getByRole("checkbox", { name: `Select ${P}/${NEVER_CONNECTED}` })).not.toBeChecked();
  await toolbar.getByLabel("Only online").uncheck();
  await toolbar.getByRole("button", { name: "Select all of this product" }).click();
  await expect(page.getByTestId("selected-count")).toHaveText(`${COUNT} selected`);
  await expect(page.getByRole("checkbox", { name: `Select ${P}/${NEVER_CONNECTED}` })).toBeChecked();

  await toolbar.getByRole("button", { name: `Run on selected (${COUNT})` }).click();
  const panel = page.getByRole("form", { name: "Run on selected devices" });
  await panel.getByLabel("Command", { exact: true }).selectOption({ label: `${name} (${P})` });
  const t = panel.getByRole("spinbutton", { name: /^t \(/ });
  await t.fill("31");
  await expect(panel.locator("[data-field-error]", { hasText: "must be at most 30" })).toBeVisible();
  await expect(panel.getByRole("button", { name: `Start batch on ${COUNT} devices` })).toBeDisabled();
  await t.fill("21");
  await panel.getByRole("combobox", { name: /^mode \(/ }).selectOption("boost");
  await expect(panel.getByTestId("rendered-payload")).toHaveText('{"cmd":"set","t":21,"mode":"boost"}');
  await panel.getByRole("button", { name: `Start batch on ${COUNT} devices` }).click();

  // ---- The batch page: live progress to the end, counts, targets, then Retry failed.
  await expect(page).toHaveURL(/\/batches\/b_[0-9a-f]+$/);
  const batchId = new URL(page.url()).pathname.split("/").at(-1)!;
  const progress = page.getByRole("progressbar", { name: "Progress", exact: true });
  await expect(progress).toHaveAttribute("aria-valuenow", "100");
  await expect(page.locator("[data-batch-status]").first()).toHaveAttribute("data-batch-status", "done");
  await expectCounts(page, { success: COUNT - 2, timeout: 1, offline: 1 });
  await expect(page.getByTestId("batch-progress-text")).toHaveText(`${COUNT} of ${COUNT} targets ended (100 %)`);
  await expect(page.getByTestId("batch-command")).toHaveText(name);
  await expect(page.getByTestId("batch-params")).toHaveText('t=21, mode="boost"');
  await expect(page.getByTestId("batch-payload")).toHaveText('{"cmd":"set","t":21,"mode":"boost"}');
  await expect(page.getByTestId("batch-duration")).toHaveText(/^[0-9.]+ (ms|s)$/);

  const targets = page.locator('[data-testid="batch-targets"] tbody tr[data-device]');
  await expect(targets).toHaveCount(COUNT);
  await page.getByLabel("Show").selectOption("timeout");
  await expect(targets).toHaveCount(1);
  await expect(targets.first()).toHaveAttribute("data-device", `${P}/${SILENT}`);
  const timeoutCall = targets.first().getByRole("link");
  await expect(timeoutCall).toHaveAttribute("href", /^\/calls\/[0-9]{10}$/);
  await page.getByLabel("Show").selectOption("offline");
  await expect(targets).toHaveCount(1);
  await expect(targets.first()).toHaveAttribute("data-device", `${P}/${NEVER_CONNECTED}`);
  const api = (await (await fetch(url(`/api/batches/${batchId}`))).json()) as BatchJson;
  expect(api).toMatchObject({ status: "done", total: COUNT, timeoutMs: 1000, params: { t: 21, mode: "boost" } });

  // The watcher saw the batch appear and end without asking the HTTP API.
  const watched = watcher.locator(`[data-testid="batches"] tr[data-batch-id="${batchId}"]`);
  await expect(watched).toHaveAttribute("data-batch-status", "done");
  await expect(watched.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
  await expect(watched.getByTestId("batch-outcomes")).toHaveText(`${COUNT - 2} success · 1 timeout · 1 offline`);
  await otherContext.close();

  await page.getByRole("button", { name: "Retry failed (2)" }).click();
  await expect(page).not.toHaveURL(new RegExp(`${batchId}$`));
  await expect(page).toHaveURL(/\/batches\/b_[0-9a-f]+$/);
  await expect(progress).toHaveAttribute("aria-valuenow", "100");
  await expectCounts(page, { timeout: 1, offline: 1 });
  await expect(page.getByRole("link", { name: batchId })).toHaveAttribute("href", `/batches/${batchId}`);
  await expect(targets).toHaveCount(2);
});

test("Cancel stops a running batch: targets not sent end cancelled, the call in flight runs to its outcome; the page follows it live", async ({
  page,
  url,
}) => {
  // Another product, so that the 50 above stay the whole of theirs. The first device holds its
  // reply until the test releases it: the batch is running for as long as the test needs.
  const P2 = "FLEETE2E02";
  const held = await startSimDevice({
    url: process.env.E2E_MQTT_URL!,
    productId: P2,
    deviceName: "held",
    secret: await secretFor("held", P2),
    silent: true,
  });
  sims.push(held);
  const requests: string[] = [];
  held.client.on("message", (topic) => {
    const t = parseRrpcTopic(topic);
    if (t?.direction === "request") requests.push(t.processId);
  });
  for (const n of ["idle1", "idle2"]) await secretFor(n, P2);
  const devices = ["held", "idle1", "idle2"].map((deviceName) => ({ productId: P2, deviceName }));
  const started = await post<BatchJson>("/api/batches", { targets: { devices }, payload: "hold", timeoutMs: 60_000, concurrency: 1 });
  expect(started.status).toBe(202);

  await page.goto(url(`/batches/${started.body.batchId}`));
  await waitLive(page);
  const progress = page.getByRole("progressbar", { name: "Progress", exact: true });
  await expect(progress).toHaveAttribute("aria-valuenow", "0");
  await expect(page.getByTestId("batch-updates")).toHaveAttribute("data-live", "true");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Cancel batch" }).click();
  await expectCounts(page, { pending: 1, cancelled: 2, unsent: 2 });
  await expect(page.locator("[data-batch-status]").first()).toHaveAttribute("data-batch-status", "running");

  await expect.poll(() => requests.length).toBe(1);
  held.client.publish(replyTopic(P2, "held", requests[0]!), "done");
  await expect(page.locator("[data-batch-status]").first()).toHaveAttribute("data-batch-status", "cancelled");
  await expectCounts(page, { success: 1, cancelled: 2, unsent: 2 });
  await expect(progress).toHaveAttribute("aria-valuenow", "100");
  await expect(page.getByRole("button", { name: "Cancel batch" })).toHaveCount(0);
  await page.getByLabel("Show").selectOption("cancelled");
  const rows = page.locator('[data-testid="batch-targets"] tbody tr[data-device]');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("no call");
});

test("the console runs a saved command with its generated form: an out-of-range number turns Run off with the reason; a valid value sends and shows success", async ({
  page,
  url,
}) => {
  const name = `Fan ${Date.now()}`;
  const created = await post<Command>("/api/commands", {
    name,
    payload: '{"fan":{{speed}},"quiet":{{quiet}}}',
    params: [
      { name: "speed", type: "integer", min: 0, max: 3 },
      { name: "quiet", type: "boolean", default: false },
    ],
  });
  expect(created.status).toBe(201);

  await openConsole(page, url);
  await page.getByRole("button", { name: "Saved command" }).click();
  const form = page.getByRole("form", { name: "Run saved command" });
  await form.getByLabel("Command", { exact: true }).selectOption({ label: name });
  await form.getByLabel("Product ID").fill(P);
  await form.getByLabel("Device", { exact: true }).fill(names[0]!);
  const run = form.getByRole("button", { name: "Run command" });
  const speed = form.getByRole("spinbutton", { name: /^speed \(/ });
  await expect(speed).toHaveAttribute("min", "0");
  await expect(speed).toHaveAttribute("max", "3");
  await speed.fill("7");
  await expect(form.locator("[data-field-error]", { hasText: "must be at most 3" })).toBeVisible();
  await expect(run).toBeDisabled();
  await expect(form.getByTestId("run-disabled-why")).toContainText("speed: must be at most 3");
  await speed.fill("2");
  await form.getByRole("checkbox", { name: /^quiet/ }).check();
  await expect(form.getByTestId("rendered-payload")).toHaveText('{"fan":2,"quiet":true}');
  await expect(run).toBeEnabled();
  await run.click();

  const result = page.getByTestId("call-result");
  await expect(result.locator('[data-status="success"]')).toBeVisible();
  await expect(result.getByTestId("reply-payload")).toHaveText("ok");
  const processId = (await result.getByTestId("result-process-id").textContent())!;
  const call = (await (await fetch(url(`/api/calls/${processId}`))).json()) as CallJson;
  expect(call).toMatchObject({ status: "success", commandId: created.body.id, deviceName: names[0] });
  expect(call.request.payloadText).toBe('{"fan":2,"quiet":true}');
});

test("a command is edited and deleted (after a confirmation) on the Commands page", async ({ page, url }) => {
  const name = `Reboot ${Date.now()}`;
  const created = await post<Command>("/api/commands", {
    name,
    payload: '{"cmd":"reboot","delay":{{delay}}}',
    params: [{ name: "delay", type: "integer", min: 0 }],
  });
  expect(created.status).toBe(201);
  await page.goto(url("/commands"));
  await page.getByRole("link", { name: `Edit ${name}` }).click();
  const form = page.getByRole("form", { name: `Edit command ${name}` });
  await expect(form.getByLabel("Payload template")).toHaveValue('{"cmd":"reboot","delay":{{delay}}}');
  const p1 = form.getByRole("group", { name: "Parameter 1", exact: true });
  await expect(p1.getByLabel("Type")).toHaveValue("integer");
  await p1.getByLabel("Default").fill("1.5");
  await expect(p1.locator("[data-field-error]", { hasText: "default must be an integer" })).toBeVisible();
  await expect(form.getByRole("button", { name: "Save changes" })).toBeDisabled();
  await p1.getByLabel("Default").fill("5");
  await form.getByLabel("Description (optional)").fill("after a delay");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(/\/commands$/);
  const row = page.locator(`[data-testid="commands"] tr[data-command-id="${created.body.id}"]`);
  await expect(row).toContainText("after a delay");
  await expect(row).toContainText("delay: integer 0–… = 5");

  page.once("dialog", (d) => void d.dismiss());
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await expect(row).toBeVisible();
  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await expect(row).toHaveCount(0);
  expect((await fetch(url(`/api/commands/${created.body.id}`))).status).toBe(404);
});

test("Save as command takes the console's product and payload to a new command's form", async ({ page, url }) => {
  await openConsole(page, url);
  await page.getByLabel("Product ID").fill(P);
  await page.getByLabel(/^Payload/).fill('{"power":"on"}');
  await page.getByRole("button", { name: "Save as command" }).click();
  await expect(page).toHaveURL(/\/commands\/new\?from=console$/);
  const form = page.getByRole("form", { name: "New command" });
  await expect(form.getByLabel("Product ID (optional)")).toHaveValue(P);
  await expect(form.getByLabel("Payload template")).toHaveValue('{"power":"on"}');
});

test.describe("axe finds no serious or critical violations", () => {
  let batchId = "";
  test.beforeAll(async () => {
    const devices = names.slice(0, 3).map((deviceName) => ({ productId: P, deviceName }));
    const r = await post<BatchJson>("/api/batches?wait=1", {
      targets: { devices: [...devices, { productId: P, deviceName: NEVER_CONNECTED }] },
      payload: "ping",
    });
    expect(r.status).toBe(200);
    batchId = r.body.batchId;
  });

  for (const colorScheme of ["light", "dark"] as const) {
    test(`on the Commands pages, the Devices page's batch panel, the Batches list and a batch page (${colorScheme})`, async ({ page, url }) => {
      test.setTimeout(120_000);
      await page.emulateMedia({ colorScheme });
      await post("/api/commands", {
        name: `Axe ${colorScheme} ${Date.now()}`,
        payload: '{"level":{{level}}}',
        params: [{ name: "level", type: "integer", min: 1, max: 5, default: 3 }],
      });
      await page.goto(url("/commands"));
      await waitLive(page);
      await expect(page.locator('[data-testid="commands"] tbody tr[data-command-id]').first()).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);

      // The form with a parameter row and an error showing.
      await page.goto(url("/commands/new"));
      const form = page.getByRole("form", { name: "New command" });
      await form.getByLabel("Payload template").fill('{"x":{{x}}}');
      await form.getByRole("button", { name: "Declare x" }).click();
      await form.getByRole("group", { name: "Parameter 1", exact: true }).getByLabel("Type").selectOption("enum");
      await expect(form.locator("[data-field-error]").first()).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);

      await page.goto(url("/devices"));
      await waitLive(page);
      const toolbar = page.getByRole("toolbar", { name: "Selection" });
      await toolbar.getByLabel("Product", { exact: true }).selectOption(P);
      await toolbar.getByRole("button", { name: "Select all of this product" }).click();
      await toolbar.getByRole("button", { name: /^Run on selected/ }).click();
      await expect(page.getByRole("form", { name: "Run on selected devices" })).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);

      await page.goto(url("/batches"));
      await expect(page.locator(`[data-testid="batches"] tr[data-batch-id="${batchId}"]`)).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);

      await page.goto(url(`/batches/${batchId}`));
      await waitLive(page);
      await expect(page.getByRole("progressbar", { name: "Progress", exact: true })).toHaveAttribute("aria-valuenow", "100");
      await expect(page.locator('[data-testid="batch-targets"] tbody tr[data-device]')).toHaveCount(4);
      expect(await seriousViolations(page)).toEqual([]);
    });
  }
});
