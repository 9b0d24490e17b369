/**
 * The operator's console: calls pending on their own cards (processId before the answer, elapsed
 * time against the deadline, Cancel), several in flight, late replies on the card that made the
 * call, Send again / Edit & resend; the timeline's memory (backfill, paging back, statuses that
 * only move forward, Pause counting calls); History's "N new" bar. Correctness only: every wait
 * is on observable state, never on the machine's speed.
 */
import type { Locator, Page } from "@playwright/test";
import { test, expect, openConsole, fillSendForm, PRODUCT } from "./fixtures";
import type { CallJson } from "../lib/rrpc/types";
import { parseRrpcTopic, replyTopic } from "../lib/rrpc/topics";
import type { SimDevice } from "../lib/server/simulator/simulator";
import { inBatches } from "../bench/common";

const rowsOf = (page: Page) => page.locator('[data-testid="timeline"] tbody tr[data-process-id]');
const row = (page: Page, processId: string) => page.locator(`[data-testid="timeline"] tr[data-process-id="${processId}"]`);
const cards = (page: Page) => page.getByTestId("call-result");

async function apiCall(url: (p: string) => string, deviceName: string, payload: string, timeoutMs?: number): Promise<CallJson> {
  const r = await fetch(url("/api/calls"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ productId: PRODUCT, deviceName, payload, ...(timeoutMs ? { timeoutMs } : {}) }),
  });
  const body = (await r.json()) as CallJson & { call?: CallJson };
  return body.call ?? body;
}

async function getCall(url: (p: string) => string, processId: string): Promise<CallJson> {
  return (await (await fetch(url(`/api/calls/${processId}`))).json()) as CallJson;
}

/** The processId a card shows (it has one while still pending). */
async function processIdOf(card: Locator): Promise<string> {
  const link = card.getByTestId("result-process-id");
  await expect(link).toHaveText(/^[0-9]{10}$/);
  return (await link.textContent())!;
}

/** A silent device's requests as they arrive, and a way to answer any of them when the test says so. */
function answerer(dev: SimDevice, deviceName: string) {
  const seen: string[] = [];
  dev.client.on("message", (topic) => {
    const t = parseRrpcTopic(topic);
    if (t?.direction === "request") seen.push(t.processId);
  });
  return {
    seen,
    answer: (processId: string, text = "ok") => void dev.client.publish(replyTopic(PRODUCT, deviceName, processId), text),
  };
}

const seconds = async (l: Locator) => Number((await l.textContent())!.replace(" s", ""));

test("a call is pending on its card at once: its processId before the answer, elapsed time against the deadline; Cancel stops waiting and the call still ends, recorded", async ({
  page,
  url,
  device,
}) => {
  const dev = answerer(await device("silentCancel", { silent: true }), "silentCancel");
  await openConsole(page, url);
  await fillSendForm(page, "silentCancel", "anyone?", 60_000);
  await page.getByRole("button", { name: "Send command" }).click();

  const card = cards(page);
  await expect(card).toHaveAttribute("data-state", "pending");
  const processId = await processIdOf(card);
  // Known while the call is in flight: nobody has answered it yet.
  await expect(card).toHaveAttribute("data-state", "pending");
  expect((await getCall(url, processId)).status).toBe("pending");
  await expect(card.locator('[data-status="pending"]')).toBeVisible();
  await expect(card.getByTestId("pending-deadline")).toHaveText("60.0 s");
  await expect.poll(() => seconds(card.getByTestId("pending-elapsed"))).toBeGreaterThan(0);
  await expect(card.getByTestId("pending-left")).toHaveText(/^[0-9.]+ s left$/);
  await expect(row(page, processId)).toHaveAttribute("data-status", "pending");

  await card.getByRole("button", { name: "Cancel" }).click();
  await expect(card).toHaveAttribute("data-state", "cancelled");
  await expect(card.getByTestId("cancelled-note")).toContainText("The call itself goes on at the hub until its outcome, which is recorded");
  expect((await getCall(url, processId)).status).toBe("pending");
  // The device answers after all: the hub takes the call to its outcome and records it; the card says how it ended.
  await expect.poll(() => dev.seen).toContain(processId);
  dev.answer(processId, "late but in time");
  await expect.poll(async () => (await getCall(url, processId)).status).toBe("success");
  expect((await getCall(url, processId)).reply?.payloadText).toBe("late but in time");
  await expect(card.getByTestId("cancelled-note")).toContainText("it ended success");
  await expect(card).toHaveAttribute("data-state", "cancelled");
  await expect(row(page, processId)).toHaveAttribute("data-status", "success");
});

test("two calls in flight at once from one console, each on its own card; Send stays available", async ({ page, url, device }) => {
  // The device stays silent: the test answers each call itself, in the reverse order.
  const dev = await device("silentTwo", { silent: true });
  await openConsole(page, url);
  const send = page.getByRole("button", { name: "Send command" });
  await fillSendForm(page, "silentTwo", "first", 60_000);
  await send.click();
  await expect(cards(page)).toHaveCount(1);
  await expect(send).toBeEnabled();
  await page.getByLabel(/^Payload/).fill("second");
  await send.click();

  await expect(cards(page)).toHaveCount(2);
  const [second, first] = [cards(page).nth(0), cards(page).nth(1)];
  const ids = [await processIdOf(first), await processIdOf(second)];
  expect(new Set(ids).size).toBe(2);
  await expect(first).toHaveAttribute("data-state", "pending");
  await expect(second).toHaveAttribute("data-state", "pending");
  for (const id of ids) await expect(row(page, id)).toHaveAttribute("data-status", "pending");
  expect(await Promise.all(ids.map(async (id) => (await getCall(url, id)).request.payloadText))).toEqual(["first", "second"]);

  // Each ends on its own card, with its own reply.
  dev.client.publish(replyTopic(PRODUCT, "silentTwo", ids[1]!), "answer-2");
  await expect(second).toHaveAttribute("data-state", "done");
  await expect(second.getByTestId("reply-payload")).toHaveText("answer-2");
  await expect(first).toHaveAttribute("data-state", "pending");
  dev.client.publish(replyTopic(PRODUCT, "silentTwo", ids[0]!), "answer-1");
  await expect(first).toHaveAttribute("data-state", "done");
  await expect(first.getByTestId("reply-payload")).toHaveText("answer-1");
  await expect(first.getByTestId("result-process-id")).toHaveText(ids[0]!);
  await expect(second.getByTestId("result-process-id")).toHaveText(ids[1]!);
});

test("a late reply shows on the card of the call that timed out", async ({ page, url, device }) => {
  const dev = answerer(await device("lateOne", { silent: true }), "lateOne");
  await openConsole(page, url);
  await fillSendForm(page, "lateOne", "hurry", 500);
  await page.getByRole("button", { name: "Send command" }).click();
  const card = cards(page);
  await expect(card).toHaveAttribute("data-state", "done");
  await expect(card.locator('[data-status="timeout"]')).toBeVisible();
  const processId = await processIdOf(card);
  dev.answer(processId, "late-ok");
  await expect(card.getByTestId("extra-replies")).toContainText("The device answered after the call ended.");
  await expect(card.getByTestId("extra-replies").locator('li[data-event="late_reply"]')).toContainText("late-ok");
  await expect(row(page, processId)).toContainText("late reply");
  const stored = await getCall(url, processId);
  expect(stored.status).toBe("timeout");
  expect(stored.events.map((e) => e.type)).toContain("late_reply");
});

test("Send again from a call's page opens the new call while it is pending; from a timeline row it gets its own pending card", async ({
  page,
  url,
  device,
}) => {
  const dev = answerer(await device("slowAgain", { silent: true }), "slowAgain");
  const made = apiCall(url, "slowAgain", "again-please", 60_000);
  await expect.poll(() => dev.seen.length).toBe(1);
  dev.answer(dev.seen[0]!);
  const first = await made;
  expect(first.status).toBe("success");

  await page.goto(url(`/calls/${first.processId}`));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
  const status = page.locator("article header [data-status]");
  await expect(status).toHaveAttribute("data-status", "success");
  await page.getByRole("button", { name: "Send again" }).click();
  await expect(page).not.toHaveURL(new RegExp(`/calls/${first.processId}$`));
  const next = page.url().split("/").at(-1)!;
  expect(Number(next)).toBeGreaterThan(Number(first.processId));
  // The new call, pending: its own id, a countdown against its deadline.
  await expect(page.getByRole("heading", { name: `Call ${next}` })).toBeVisible();
  await expect(status).toHaveAttribute("data-status", "pending");
  await expect(page.getByTestId("detail-pending").getByTestId("pending-deadline")).toHaveText("60.0 s");
  await expect(page.getByTestId("detail-pending").getByRole("button", { name: "Cancel" })).toBeVisible();
  await expect(page.getByTestId("request-payload")).toContainText("again-please");
  dev.answer(next, "second answer");
  await expect(status).toHaveAttribute("data-status", "success");
  await expect(page.getByTestId("detail-pending")).toHaveCount(0);
  await expect(page.getByTestId("reply-payload")).toContainText("second answer");

  // From the timeline: the row's actions.
  await openConsole(page, url);
  await row(page, next)
    .getByRole("button", { name: `Actions for ${next}` })
    .click();
  await row(page, next).getByRole("button", { name: "Send again" }).click();
  const card = cards(page).first();
  await expect(card).toHaveAttribute("data-state", "pending");
  const third = await processIdOf(card);
  expect(Number(third)).toBeGreaterThan(Number(next));
  await expect(row(page, third)).toContainText("again-please");
  await expect(row(page, third)).toHaveAttribute("data-status", "pending");
  dev.answer(third, "third answer");
  await expect(card).toHaveAttribute("data-state", "done");
  await expect(card.getByTestId("reply-payload")).toHaveText("third answer");
});

test("Edit & resend prefills the console from a call's page and from a timeline row, also with a payload too large for a URL", async ({
  page,
  url,
}) => {
  const json = await apiCall(url, "airConditioner1", '{"power":"off","fan":2}', 3000);
  await page.goto(url(`/calls/${json.processId}`));
  await page.getByRole("button", { name: "Edit & resend" }).click();
  await expect(page).toHaveURL(/\/\?productId=AIRCOND001&deviceName=airConditioner1&payload=/);
  await expect(page.getByLabel("Product ID")).toHaveValue(PRODUCT);
  await expect(page.getByLabel("Device", { exact: false }).first()).toHaveValue("airConditioner1");
  await expect(page.getByLabel(/^Payload/)).toHaveValue('{"power":"off","fan":2}');
  await expect(page.getByRole("radio", { name: "JSON" })).toBeChecked();
  await expect(page.getByLabel("Timeout (ms)")).toHaveValue("3000");

  // From a timeline row, a payload too large for the URL: it waits in sessionStorage.
  const big = "y".repeat(5000);
  const large = await apiCall(url, "airConditioner1", big, 2500);
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
  await row(page, large.processId)
    .getByRole("button", { name: `Actions for ${large.processId}` })
    .click();
  await row(page, large.processId).getByRole("button", { name: "Edit & resend" }).click();
  await expect(page).toHaveURL(/\/\?draft=/);
  await expect(page.getByLabel(/^Payload/)).toHaveValue(big);
  await expect(page.getByRole("radio", { name: "Text" })).toBeChecked();
  await expect(page.getByLabel("Timeout (ms)")).toHaveValue("2500");
  // Sending it makes the call with that request.
  await page.getByRole("button", { name: "Send command" }).click();
  const card = cards(page).first();
  await expect(card.getByTestId("reply-payload")).toHaveText("ok");
  const sent = await getCall(url, await processIdOf(card));
  expect(sent.request.payloadText).toBe(big);
  expect(sent.timeoutMs).toBe(2500);
});

test("on load the timeline shows the newest stored calls; paging back reads older ones from the store", async ({ page, url, device }) => {
  test.setTimeout(120_000);
  await device("backfillDev");
  const made: string[] = [];
  await inBatches(260, 10, async () => {
    made.push((await apiCall(url, "backfillDev", "stored")).processId);
  });
  made.sort((a, b) => Number(b) - Number(a)); // newest first

  await openConsole(page, url);
  // The newest 50, as the live feed would have drawn them: their outcome and round trip.
  await expect(rowsOf(page)).toHaveCount(50);
  await expect(rowsOf(page).first()).toHaveAttribute("data-process-id", made[0]!);
  await expect(rowsOf(page).last()).toHaveAttribute("data-process-id", made[49]!);
  await expect(row(page, made[0]!)).toHaveAttribute("data-status", "success");
  await expect(row(page, made[0]!).locator("td").last()).toHaveText(/^[0-9.]+ (ms|s)$/);
  await expect(page.getByTestId("timeline-more")).toContainText("Older calls are in the store.");

  await page.getByRole("button", { name: "Older" }).click();
  await expect(rowsOf(page)).toHaveCount(200);
  await expect(rowsOf(page).first()).toHaveAttribute("data-process-id", made[50]!);
  await expect(rowsOf(page).last()).toHaveAttribute("data-process-id", made[249]!);
  await expect(page.getByTestId("timeline-more")).toContainText("50 newer above.");
  await page.getByRole("button", { name: "Older" }).click();
  await expect(rowsOf(page).first()).toHaveAttribute("data-process-id", made[250]!);
  await expect(row(page, made[259]!)).toHaveAttribute("data-status", "success");

  await page.getByRole("button", { name: "Newest" }).click();
  await expect(rowsOf(page).first()).toHaveAttribute("data-process-id", made[0]!);
  await expect(rowsOf(page)).toHaveCount(200);
});

test("statuses never go back under a burst: after 300 calls every call in the timeline has ended, none pending", async ({ page, url, device }) => {
  test.setTimeout(180_000);
  await device("burstDev");
  await openConsole(page, url);
  const made: string[] = [];
  await inBatches(300, 20, async () => {
    made.push((await apiCall(url, "burstDev", "burst")).processId);
  });
  made.sort((a, b) => Number(b) - Number(a));
  // Every one of them is in the timeline, ended.
  await page.getByLabel("Filter by device").fill("burstDev");
  await expect(rowsOf(page)).toHaveCount(200, { timeout: 60_000 });
  await expect(page.getByTestId("timeline-more")).toContainText("100 more not shown.", { timeout: 60_000 });
  await expect(rowsOf(page).first()).toHaveAttribute("data-process-id", made[0]!);
  await expect(page.locator('[data-testid="timeline"] tbody tr[data-status="pending"]')).toHaveCount(0, { timeout: 60_000 });
  expect(new Set(await rowsOf(page).evaluateAll((els) => els.map((e) => e.getAttribute("data-status"))))).toEqual(new Set(["success"]));
  // None pending anywhere in memory, the 100 past the window included.
  await page.getByLabel("Filter by status").selectOption("pending");
  await expect(rowsOf(page)).toHaveCount(0);
  await page.getByLabel("Filter by status").selectOption("success");
  await expect(page.getByTestId("timeline-more")).toContainText("100 more not shown.");
});

test("Pause counts calls, not MQTT messages: one call while paused is 1 new", async ({ page, url }) => {
  await openConsole(page, url);
  const timeline = page.getByTestId("timeline");
  await page.getByRole("button", { name: "Pause" }).click();
  const before = Number(await timeline.getAttribute("data-messages"));
  const call = await apiCall(url, "airConditioner1", "while-paused");
  expect(call.status).toBe("success");
  // Its request, its reply and the hub's update have all arrived…
  await expect.poll(async () => Number(await timeline.getAttribute("data-messages")) - before).toBeGreaterThanOrEqual(3);
  // …and make one new call.
  await expect(page.getByRole("button", { name: "Resume (1 new)" })).toBeVisible();
  await expect(row(page, call.processId)).toHaveCount(0);
  await page.getByRole("button", { name: "Resume (1 new)" }).click();
  await expect(row(page, call.processId)).toHaveAttribute("data-status", "success");
  await expect(page.getByRole("button", { name: "Pause" })).toBeVisible();
});

test("History offers calls that arrive live and match its filters in an 'N new — show' bar", async ({ page, url, device }) => {
  await device("histLive1");
  await device("otherLive");
  await page.goto(url("/history?deviceNamePrefix=histlive"));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
  await expect(page.getByTestId("history-count")).toBeVisible();
  const before = await page.getByTestId("history-count").textContent();

  const a = await apiCall(url, "histLive1", "one");
  await apiCall(url, "otherLive", "not this one");
  const b = await apiCall(url, "histLive1", "two");
  const bar = page.getByTestId("history-new");
  await expect(bar).toHaveText("2 new — show");
  await expect(page.locator(`[data-testid="history"] tr[data-process-id="${a.processId}"]`)).toHaveCount(0);
  await bar.click();
  for (const c of [a, b]) await expect(page.locator(`[data-testid="history"] tr[data-process-id="${c.processId}"]`)).toBeVisible();
  await expect(bar).toHaveCount(0);
  // The count follows.
  await expect(page.getByTestId("history-count")).not.toHaveText(before!);
  await expect(page).toHaveURL(/\/history\?deviceNamePrefix=histlive$/);
});
