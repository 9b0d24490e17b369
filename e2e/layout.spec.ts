import { test, expect, PRODUCT, seriousViolations } from "./fixtures";
import type { Browser, BrowserContext, Page } from "@playwright/test";
import { startSimDevice, type SimDevice } from "../lib/server/simulator/simulator";
import { startServer, type ServerHandle } from "../lib/server/testing/servers";
import { DEVICE_NAME_MAX } from "../lib/rrpc/topics";

/**
 * Layouts that hold: every page at phone, tablet and desktop widths, light and dark, with the
 * content that breaks layouts — multi-KB JSON, long unbroken strings, device names of the
 * longest allowed length, a long API key name — and the signed-in header (a hub of its own with
 * sign-in on, as e2e/sessions.spec.ts does). Nothing may stick out of the viewport except inside
 * a scrolling frame of its own; each combination is saved to
 * test-results/screenshots/{page}-{width}-{scheme}.png. One page is reused for every width and
 * scheme (resized and re-themed in place), and the calls are made once.
 */

const WIDTHS = [390, 768, 1280, 1440] as const;
const SCHEMES = ["light", "dark"] as const;
const USER = "night-shift-operator";
const PASSWORD = "layout spec operator password";
/** The longest names the hub accepts (lib/rrpc/topics.ts). */
const LONG_DEVICE = "living-room_air-conditioner:unit-0042-basement-".padEnd(DEVICE_NAME_MAX, "x");
const LONG_OFFLINE = "warehouse-7_refrigeration-compressor:bay-12-east-".slice(0, DEVICE_NAME_MAX);
const UNBROKEN = "A".repeat(2500);

/** A multi-KB JSON document with long values, some without any place to break a line. */
function bigJson(tag: string): string {
  return JSON.stringify({
    tag,
    device: LONG_DEVICE,
    firmware: { version: "4.2.1-rc.7+build.20260101", checksum: "f".repeat(128) },
    token: "eyJ".padEnd(600, "Zm9vYmFyYmF6"),
    readings: Array.from({ length: 60 }, (_, i) => ({
      at: `2026-01-01T00:${String(i).padStart(2, "0")}:00Z`,
      celsius: 20 + i / 10,
      ok: i % 7 !== 0,
    })),
  });
}

let server: ServerHandle;
let ctx: BrowserContext;
let page: Page;
let sim: SimDevice;
let callId: string;

async function signIn(p: Page) {
  await p.goto(`${server.url}/login`);
  await p.getByLabel("User").fill(USER);
  await p.getByLabel("Password").fill(PASSWORD);
  await p.getByRole("button", { name: "Sign in" }).click();
  await expect(p).toHaveURL(`${server.url}/`);
}

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  test.setTimeout(90_000);
  server = await startServer({ RRPC_SIMULATOR: "0", RRPC_LOG_LEVEL: "warn", RRPC_OPERATOR_USER: USER, RRPC_OPERATOR_PASSWORD: PASSWORD });
  ctx = await browser.newContext();
  page = await ctx.newPage();
  await signIn(page);
  const api = page.request;
  const register = async (deviceName: string) => {
    const r = await api.post(`${server.url}/api/devices`, { data: { productId: PRODUCT, deviceName } });
    expect(r.status()).toBe(201);
    return ((await r.json()) as { secret: string }).secret;
  };
  const secret = await register(LONG_DEVICE);
  await register(LONG_OFFLINE);
  sim = await startSimDevice({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    productId: PRODUCT,
    deviceName: LONG_DEVICE,
    secret,
    reply: (req) => (req.toString().startsWith("{") ? bigJson("reply") : `echo:${req.toString()}`),
  });
  const call = async (deviceName: string, payload: string) =>
    (await (await api.post(`${server.url}/api/calls`, { data: { productId: PRODUCT, deviceName, payload } })).json()) as { processId: string };
  callId = (await call(LONG_DEVICE, bigJson("request"))).processId;
  await call(LONG_DEVICE, UNBROKEN);
  await call(LONG_OFFLINE, bigJson("offline"));
  const key = await api.post(`${server.url}/api/keys`, { data: { name: "billing-service-".padEnd(100, "0123456789") } });
  expect(key.status()).toBe(201);
});

test.afterAll(async () => {
  await sim?.stop();
  await ctx?.close();
  await server?.stop();
});

type Overflow = { scrollWidth: number; clientWidth: number; innerWidth: number; sticking: string[] };

/**
 * The page's width against the viewport's, and every element whose box reaches past the
 * viewport's left or right edge without an ancestor (below <body>) that scrolls or clips it.
 */
function overflow(p: Page): Promise<Overflow> {
  return p.evaluate(() => {
    const limit = document.documentElement.clientWidth;
    // Clipped or scrolled by an ancestor below <body>? Only ancestors on the element's chain of
    // containing blocks count: an absolutely positioned box escapes an unpositioned scroller.
    const framed = (el: Element) => {
      let position = getComputedStyle(el).position;
      if (position === "fixed") return false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const style = getComputedStyle(a);
        if (position === "absolute" && style.position === "static" && style.transform === "none") continue;
        if (style.overflowX !== "visible") return true;
        position = style.position;
      }
      return false;
    };
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.getAttribute("data-testid") ? `[data-testid=${el.getAttribute("data-testid")}]` : ""}.${[...el.classList].slice(0, 4).join(".")}`;
    const sticking: string[] = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if ((r.right > limit + 0.5 || r.left < -1.5) && !framed(el)) {
        sticking.push(`${name(el)} [${Math.round(r.left)}..${Math.round(r.right)}] "${(el.textContent ?? "").slice(0, 40)}"`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: limit, innerWidth: window.innerWidth, sticking: sticking.slice(0, 12) };
  });
}

/** Every width and scheme of the page now open: nothing sticks out; a full-page screenshot of each; axe on the phone width. */
async function holds(p: Page, name: string) {
  for (const width of WIDTHS) {
    await p.setViewportSize({ width, height: 900 });
    for (const colorScheme of SCHEMES) {
      await p.emulateMedia({ colorScheme });
      const o = await overflow(p);
      expect.soft(o.sticking, `${name} at ${width} px (${colorScheme}): elements beyond the viewport`).toEqual([]);
      expect.soft(o.scrollWidth, `${name} at ${width} px (${colorScheme}): the page scrolls sideways`).toBeLessThanOrEqual(o.clientWidth);
      expect.soft(o.scrollWidth).toBeLessThanOrEqual(o.innerWidth);
      await p.screenshot({ path: `test-results/screenshots/${name}-${width}-${colorScheme}.png`, fullPage: true });
      if (width === 390) expect.soft(await seriousViolations(p), `${name} at ${width} px (${colorScheme}): axe`).toEqual([]);
    }
  }
}

test("the console holds at 390–1440 px, light and dark, with a multi-KB JSON call to a 48-character device and the signed-in header", async () => {
  test.setTimeout(90_000);
  await page.goto(`${server.url}/`);
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
  await expect(page.getByRole("button", { name: `Sign out ${USER}` })).toBeVisible();
  await page.getByLabel("Product ID").fill(PRODUCT);
  await page.getByLabel("Device", { exact: false }).first().fill(LONG_DEVICE);
  await page.getByRole("radio", { name: "JSON" }).check();
  await page.getByLabel(/^Payload/).fill(bigJson("console"));
  await page.getByRole("button", { name: "Send command" }).click();
  await expect(page.getByTestId("reply-payload")).toContainText('"tag": "reply"');
  // Rows in the live timeline too: calls made while the console is open.
  // (The timeline also lists the stored calls made before, from its backfill, each with its caller under the device.)
  const made = (await (
    await page.request.post(`${server.url}/api/calls`, { data: { productId: PRODUCT, deviceName: LONG_DEVICE, payload: UNBROKEN } })
  ).json()) as { processId: string };
  const row = page.locator(`[data-testid="timeline"] tr[data-process-id="${made.processId}"]`);
  await expect(row.getByTestId("caller")).toHaveText(`operator ${USER}`);
  await holds(page, "console");
});

test("history holds at 390–1440 px, light and dark", async () => {
  test.setTimeout(90_000);
  await page.goto(`${server.url}/history`);
  await expect(page.locator('[data-testid="history"] tr[data-process-id]').first()).toBeVisible();
  await holds(page, "history");
});

test("devices holds at 390–1440 px, light and dark, with the connect panel open", async () => {
  test.setTimeout(90_000);
  await page.goto(`${server.url}/devices`);
  const key = `${PRODUCT}/${LONG_DEVICE}`;
  await page.getByRole("button", { name: `Connect ${key}` }).click();
  await expect(page.getByTestId("connect-device-info")).toBeVisible();
  await holds(page, "devices");
});

test("API keys holds at 390–1440 px, light and dark, with a 100-character key name", async () => {
  test.setTimeout(90_000);
  await page.goto(`${server.url}/keys`);
  await expect(page.locator('[data-testid="keys"] tr[data-secret-id]').first()).toBeVisible();
  await holds(page, "keys");
});

test("a call's page holds at 390–1440 px, light and dark, with multi-KB payloads both ways", async () => {
  test.setTimeout(90_000);
  await page.goto(`${server.url}/calls/${callId}`);
  await expect(page.getByTestId("trace").locator('li[data-event="success"]')).toBeVisible();
  await expect(page.getByTestId("reply-payload")).toContainText('"tag": "reply"');
  await holds(page, "call");
});

test("the sign-in page holds at 390–1440 px, light and dark", async ({ browser }) => {
  test.setTimeout(90_000);
  const anon = await browser.newContext();
  try {
    const p = await anon.newPage();
    await p.goto(`${server.url}/login`);
    await expect(p.getByRole("button", { name: "Sign in" })).toBeVisible();
    await holds(p, "login");
    // What the sign-in page links to loads without a session: the manifest and its icons.
    for (const path of ["/manifest.webmanifest", "/icon-192.png", "/icon-512.png", "/icon-maskable-512.png", "/apple-touch-icon.png"]) {
      const r = await p.request.get(server.url + path, { maxRedirects: 0 });
      expect(r.status(), path).toBe(200);
    }
  } finally {
    await anon.close();
  }
});
