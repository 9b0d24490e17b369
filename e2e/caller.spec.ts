/**
 * Who made a call, as the dashboard shows it: calls made through the API with an API key
 * (HTTP Basic), without one (local, sign-in off) and by a batch show their caller on the live
 * timeline, in History (a By column, a caller filter kept in the URL) and on the call page
 * (Made by, with a link to the batch).
 */
import type { Page } from "@playwright/test";
import { test, expect, openConsole, seriousViolations, PRODUCT } from "./fixtures";
import type { BatchJson, NewApiKey } from "../lib/rrpc/api";
import type { CallJson } from "../lib/rrpc/types";

const base = () => process.env.E2E_BASE_URL!;
const DEVICES = ["caller-e2e-1", "caller-e2e-2"];

async function post<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const r = await fetch(base() + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as T };
}

async function get<T>(path: string): Promise<T> {
  const r = await fetch(base() + path);
  expect(r.status).toBe(200);
  return (await r.json()) as T;
}

/** The batch id as the dashboard shortens it: its first 8 characters and an ellipsis. */
const shortId = (id: string) => `${id.slice(0, 8)}…`;

/** The history's rows, once it has loaded. */
function historyRows(page: Page) {
  return page.locator('[data-testid="history"] tbody tr[data-process-id]');
}

test("the timeline, History and the call page show who made each call; History filters by caller kind and id, in the URL", async ({
  page,
  url,
  device,
}) => {
  test.setTimeout(60_000);
  for (const d of DEVICES) await device(d);
  await openConsole(page, url);

  // An API key with a name, used with HTTP Basic auth.
  const keyName = `ci-bot-${Date.now()}`;
  const key = await post<NewApiKey>("/api/keys", { name: keyName });
  expect(key.status).toBe(201);
  const basic = { authorization: `Basic ${Buffer.from(`${key.body.secretId}:${key.body.secretKey}`).toString("base64")}` };
  const byKey = await post<CallJson>("/api/calls", { productId: PRODUCT, deviceName: DEVICES[0], payload: "by-key" }, basic);
  expect(byKey.status).toBe(200);
  expect(byKey.body.caller).toMatchObject({ kind: "api_key", id: key.body.secretId, name: keyName });

  // No credentials: sign-in is off in this run, the caller is local.
  const local = await post<CallJson>("/api/calls", { productId: PRODUCT, deviceName: DEVICES[1], payload: "by-local" });
  expect(local.status).toBe(200);
  expect(local.body.caller?.kind).toBe("local");

  // A batch to both devices, waited for.
  const batch = await post<BatchJson>("/api/batches?wait=1", {
    targets: { devices: DEVICES.map((deviceName) => ({ productId: PRODUCT, deviceName })) },
    payload: "by-batch",
  });
  expect(batch.status).toBe(200);
  const batchId = batch.body.batchId;
  const batchCalls = (await get<{ calls: CallJson[] }>(`/api/calls?batchId=${batchId}`)).calls;
  expect(batchCalls).toHaveLength(2);
  const batchIds = batchCalls.map((c) => c.processId);

  // The live timeline: a line under the device says who.
  const timeline = page.getByTestId("timeline");
  const row = (processId: string) => timeline.locator(`tr[data-process-id="${processId}"]`);
  await expect(row(byKey.body.processId).getByTestId("caller")).toHaveText(`API key ${keyName}`);
  await expect(row(local.body.processId).getByTestId("caller")).toHaveText("local");
  for (const id of batchIds) {
    await expect(row(id).getByTestId("caller")).toHaveText(`batch ${shortId(batchId)} (local)`);
    await expect(row(id).getByTestId("caller")).toHaveAttribute("title", new RegExp(batchId));
  }

  // A fresh page: the rows come from the store (backfill), with their callers.
  await page.reload();
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
  await expect(row(byKey.body.processId).getByTestId("caller")).toHaveText(`API key ${keyName}`);
  await expect(row(batchIds[0]!).getByTestId("caller")).toHaveAttribute("data-caller-kind", "batch");

  // History: a By column.
  await page.goto(url("/history"));
  const history = historyRows(page);
  const hrow = (processId: string) => page.locator(`[data-testid="history"] tr[data-process-id="${processId}"]`);
  await expect(page.getByRole("columnheader", { name: "By" })).toBeVisible();
  await expect(hrow(byKey.body.processId).getByTestId("caller")).toHaveText(`API key ${keyName}`);
  await expect(hrow(local.body.processId).getByTestId("caller")).toHaveText("local");
  await expect(hrow(batchIds[0]!).getByTestId("caller")).toHaveText(`batch ${shortId(batchId)} (local)`);

  // Filter by kind: only batches' calls, the key's and the local one gone.
  const form = page.getByRole("form", { name: "History filters" });
  await form.getByLabel("Made by").selectOption("batch");
  await form.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/\/history\?callerKind=batch$/);
  for (const id of batchIds) await expect(hrow(id)).toBeVisible();
  await expect(hrow(byKey.body.processId)).toHaveCount(0);
  await expect(hrow(local.body.processId)).toHaveCount(0);
  const kinds = await history.getByTestId("caller").evaluateAll((els) => els.map((e) => e.getAttribute("data-caller-kind")));
  expect(new Set(kinds)).toEqual(new Set(["batch"]));

  // And by id: exactly this batch's calls, counted by the API too.
  await form.getByLabel("Caller id").fill(batchId);
  await form.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`/history\\?callerKind=batch&callerId=${batchId}$`));
  await expect(history).toHaveCount(2);
  await expect(page.getByTestId("history-count")).toContainText("2 calls match");
  const csv = page.getByRole("link", { name: "Export CSV" });
  await expect(csv).toHaveAttribute("href", new RegExp(`callerKind=batch&callerId=${batchId}`));

  // Back restores the kind-only view and its form; Back again, the unfiltered one.
  await page.goBack();
  await expect(page).toHaveURL(/\/history\?callerKind=batch$/);
  await expect(form.getByLabel("Made by")).toHaveValue("batch");
  await expect(form.getByLabel("Caller id")).toHaveValue("");
  await expect(hrow(byKey.body.processId)).toHaveCount(0);
  await page.goBack();
  await expect(page).toHaveURL(/\/history$/);
  await expect(form.getByLabel("Made by")).toHaveValue("");
  await expect(hrow(byKey.body.processId)).toBeVisible();

  // The API key's calls by key id.
  await page.goto(url(`/history?callerKind=api_key&callerId=${key.body.secretId}`));
  await expect(history).toHaveCount(1);
  await expect(hrow(byKey.body.processId)).toBeVisible();

  // The call page: Made by, and a link to its batch.
  await page.goto(url(`/calls/${batchIds[0]}`));
  const madeBy = page.getByTestId("made-by");
  await expect(madeBy).toContainText("Made by");
  await expect(madeBy.getByTestId("caller")).toHaveText(`batch ${shortId(batchId)} (local)`);
  await madeBy.getByRole("link", { name: batchId }).click();
  await expect(page).toHaveURL(new RegExp(`/batches/${batchId}$`));

  await page.goto(url(`/calls/${byKey.body.processId}`));
  await expect(page.getByTestId("made-by").getByTestId("caller")).toHaveText(`API key ${keyName}`);
  await expect(page.getByTestId("made-by").getByRole("link")).toHaveCount(0);
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds no serious or critical violations on History with its caller column and filters (${colorScheme})`, async ({ page, url }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto(url("/history?callerKind=batch"));
    await expect(historyRows(page).first()).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(url("/history"));
    await expect(historyRows(page).first().getByTestId("caller")).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
  });
}
