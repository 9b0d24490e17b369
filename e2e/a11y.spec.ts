import { test, expect, PRODUCT } from "./fixtures";
import type { Locator, Page } from "@playwright/test";

/** A call with a JSON request, made over the API; its page open and its trace drawn. */
async function openCall(page: Page, url: (p: string) => string, payload: string) {
  const r = await page.request.post(url("/api/calls"), { data: { productId: PRODUCT, deviceName: "airConditioner1", payload } });
  const { processId } = (await r.json()) as { processId: string };
  await page.goto(url(`/calls/${processId}`));
  await expect(page.getByTestId("trace").locator('li[data-event="success"]')).toBeVisible();
  return processId;
}

test("payload views are WAI-ARIA tabs: one tab stop, Left/Right move and wrap, Home/End jump, the view follows focus", async ({ page, url }) => {
  const payload = '{"power":"off"}';
  await openCall(page, url, payload);
  const request = page.getByRole("region", { name: "Request" });
  const tablist = request.getByRole("tablist", { name: "Request view" });
  const tabs = tablist.getByRole("tab");
  await expect(tabs).toHaveText(["Text", "JSON", "Hex", "Base64"]);
  const panel = request.getByRole("tabpanel");
  const tab = (name: string) => tablist.getByRole("tab", { name, exact: true });

  /** The named tab is selected, focused, the only one in the tab order, and its panel shows `body`. */
  const shows = async (name: string, body: string | RegExp) => {
    await expect(tab(name)).toHaveAttribute("aria-selected", "true");
    await expect(tab(name)).toBeFocused();
    expect(await tabs.evaluateAll((els) => els.map((e) => `${e.textContent}:${e.getAttribute("tabindex")}`))).toEqual(
      ["Text", "JSON", "Hex", "Base64"].map((n) => `${n}:${n === name ? "0" : "-1"}`),
    );
    await expect(panel).toHaveAttribute("aria-labelledby", (await tab(name).getAttribute("id"))!);
    await expect(panel).toHaveText(body);
  };

  // JSON is shown first; Tab from the page's controls reaches it as the tablist's one stop.
  await expect(tab("JSON")).toHaveAttribute("aria-selected", "true");
  await tab("JSON").focus();
  await page.keyboard.press("ArrowRight");
  await shows("Hex", "7b 22 70 6f 77 65 72 22 3a 22 6f 66 66 22 7d");
  await page.keyboard.press("ArrowRight");
  await shows("Base64", Buffer.from(payload).toString("base64"));
  await page.keyboard.press("ArrowRight");
  await shows("Text", payload);
  await page.keyboard.press("ArrowLeft");
  await shows("Base64", Buffer.from(payload).toString("base64"));
  await page.keyboard.press("Home");
  await shows("Text", payload);
  await page.keyboard.press("End");
  await shows("Base64", Buffer.from(payload).toString("base64"));
  await page.keyboard.press("ArrowLeft");
  await shows("Hex", /^7b 22/);
  // Tab leaves the tablist (to its copy button), Shift+Tab comes back to the selected tab.
  await page.keyboard.press("Tab");
  await expect(request.getByRole("button", { name: "Copy request as Hex" })).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(tab("Hex")).toBeFocused();
  // Enter/Space on a focused tab and a click still work.
  await tab("JSON").click();
  await expect(panel).toContainText('"power": "off"');
});

/** Boxes of the axis's labels, and of the bar above them. */
async function axisBoxes(axis: Locator) {
  const labels = axis.locator("[data-axis-label]");
  const boxes = await labels.evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { type: e.getAttribute("data-axis-label")!, text: e.textContent ?? "", left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
  );
  const bar = (await axis.locator(":scope > div").first().boundingBox())!;
  return { boxes, bar };
}

test("the trace bar has an axis: a labelled tick per hop (name and ms) under the bar, never overlapping, at 390 and 1280 px; the list says the same", async ({
  page,
  url,
}) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await openCall(page, url, "axis");
  const axis = page.getByTestId("trace-axis");
  const events = await page
    .getByTestId("trace")
    .locator("li")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-event")));
  expect(events).toEqual(["requested", "published", "delivered", "replied", "success"]);
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await expect
      .poll(async () => (await axisBoxes(axis)).boxes.map((b) => b.type), { message: `labels at ${width} px` })
      .toEqual(["requested", "published", "delivered", "replied", "success"]);
    const { boxes, bar } = await axisBoxes(axis);
    for (const b of boxes) {
      expect(b.text, `${b.type} at ${width} px`).toMatch(new RegExp(`^${b.type}\\+[0-9.]+ (ms|s)$`));
      expect(b.top, `${b.type} is under the bar`).toBeGreaterThanOrEqual(bar.y + bar.height);
      expect(b.left, `${b.type} within the bar's width`).toBeGreaterThanOrEqual(bar.x - 0.5);
      expect(b.right, `${b.type} within the bar's width`).toBeLessThanOrEqual(bar.x + bar.width + 0.5);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        expect(apart, `at ${width} px, "${a.text}" overlaps "${b.text}"`).toBe(true);
      }
    }
  }
  // Each label's time is the list's: the axis is drawn for the eye, the list is read aloud.
  const listed = await page.getByTestId("trace").locator("li").allTextContents();
  const { boxes } = await axisBoxes(axis);
  for (const [i, b] of boxes.entries()) expect(listed[i]).toContain(b.text.slice(b.type.length));
  await expect(axis).toHaveAttribute("aria-hidden", "true");
});
