import { test, expect } from "./fixtures";

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

type Manifest = {
  name: string;
  short_name: string;
  start_url: string;
  display: string;
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
};

test("the web app manifest: name, start_url /, standalone, colours, 192 and 512 px PNG icons and a maskable one; apple-touch-icon and theme-color in the page", async ({
  page,
  url,
  request,
}) => {
  await page.goto(url("/"));
  const href = await page.locator('link[rel="manifest"]').getAttribute("href");
  expect(href).toBe("/manifest.webmanifest");
  const r = await request.get(url(href!));
  expect(r.headers()["content-type"]).toContain("application/manifest+json");
  const m = (await r.json()) as Manifest;
  expect(m).toMatchObject({ short_name: "rrpc-hub", start_url: "/", display: "standalone" });
  expect(m.name).toContain("rrpc-hub");
  expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(m.background_color).toMatch(/^#[0-9a-f]{6}$/);
  const pngs = m.icons.filter((i) => i.type === "image/png");
  for (const want of [
    { sizes: "192x192", purpose: "any" },
    { sizes: "512x512", purpose: "any" },
    { sizes: "512x512", purpose: "maskable" },
  ]) {
    expect(
      pngs.some((i) => i.sizes === want.sizes && (i.purpose ?? "any").split(" ").includes(want.purpose)),
      JSON.stringify(want),
    ).toBe(true);
  }
  for (const icon of pngs) {
    const file = await request.get(url(icon.src));
    expect(file.status(), icon.src).toBe(200);
    expect(file.headers()["content-type"]).toBe("image/png");
    const [w, h] = icon.sizes.split("x").map(Number);
    expect(pngSize(await file.body())).toEqual({ width: w, height: h });
  }

  const apple = await page.locator('link[rel="apple-touch-icon"]').getAttribute("href");
  const appleFile = await request.get(url(apple!));
  expect(pngSize(await appleFile.body())).toEqual({ width: 180, height: 180 });
  expect(
    await page.locator('meta[name="theme-color"]').evaluateAll((els) => els.map((e) => [e.getAttribute("media"), e.getAttribute("content")])),
  ).toEqual([
    ["(prefers-color-scheme: light)", "#ffffff"],
    ["(prefers-color-scheme: dark)", "#09090b"],
  ]);
});

/** The goal for the console's first load: its JavaScript, as sent over the wire (compressed). */
const FIRST_LOAD_JS_GOAL = 350 * 1024;

test("the console's first-load JavaScript is served compressed, and weighs under 350 KB compressed", async ({ browser, url }, testInfo) => {
  // A new context: an empty cache, as a first visit.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const scripts: { url: string; encoding: string | undefined; wire: number; raw: number }[] = [];
  const pending: Promise<void>[] = [];
  page.on("response", (res) => {
    // Scripts from the network (not blob: workers the page makes itself, as mqtt.js's timers).
    if (res.request().resourceType() !== "script" || !/^https?:/.test(res.url())) return;
    pending.push(
      (async () => {
        const [sizes, body] = await Promise.all([res.request().sizes(), res.body()]);
        scripts.push({
          url: new URL(res.url()).pathname,
          encoding: res.headers()["content-encoding"],
          wire: sizes.responseBodySize,
          raw: body.length,
        });
      })(),
    );
  });
  await page.goto(url("/"));
  await expect(page.getByTestId("live-indicator")).toHaveAttribute("data-state", "connected");
  await page.waitForLoadState("networkidle");
  await Promise.all(pending);
  await ctx.close();

  expect(scripts.length).toBeGreaterThan(0);
  // Below 1 KiB the server sends a file as it is (the compression middleware's threshold: the
  // headers would outweigh the saving), as it does the live worker's 0.9 KiB bootstrap.
  for (const s of scripts.filter((x) => x.raw >= 1024)) {
    expect([s.url, s.encoding]).toEqual([s.url, expect.stringMatching(/^(gzip|br|zstd|deflate)$/)]);
  }
  const wire = scripts.reduce((n, s) => n + s.wire, 0);
  const raw = scripts.reduce((n, s) => n + s.raw, 0);
  const report = `console first-load JS: ${scripts.length} files, ${(raw / 1024).toFixed(1)} KiB raw, ${(wire / 1024).toFixed(1)} KiB as sent (${[...new Set(scripts.map((s) => s.encoding))].join(", ")}); goal ${FIRST_LOAD_JS_GOAL / 1024} KiB`;
  console.log(report);
  testInfo.annotations.push({ type: "first-load JS", description: report });
  expect(wire).toBeLessThan(FIRST_LOAD_JS_GOAL);
});
