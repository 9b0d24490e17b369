/**
 * Renders the app's icons for the web app manifest (app/manifest.ts) and iOS from app/icon.svg,
 * with the same Chromium the browser tests use:
 *   npx tsx scripts/make-icons.ts
 * and writes public/icon-192.png, public/icon-512.png (the rounded icon, transparent corners),
 * public/icon-maskable-512.png (full-bleed background: the launcher cuts its own shape; the
 * arrows sit well inside the maskable safe zone, the centre circle of 80 %) and
 * public/apple-touch-icon.png (180 px, full-bleed: iOS rounds it). Run it again after changing
 * app/icon.svg, and commit the PNGs.
 */
import { chromium } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..");
const svg = readFileSync(join(root, "app", "icon.svg"), "utf8");
/** The same picture without the rounded corners: the background fills the square. */
const square = svg.replace(/ rx="[^"]*"/, "");

const ICONS = [
  { file: "icon-192.png", size: 192, svg },
  { file: "icon-512.png", size: 512, svg },
  { file: "icon-maskable-512.png", size: 512, svg: square },
  { file: "apple-touch-icon.png", size: 180, svg: square },
];

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    for (const icon of ICONS) {
      await page.setViewportSize({ width: icon.size, height: icon.size });
      const sized = icon.svg.replace("<svg ", `<svg width="${icon.size}" height="${icon.size}" `);
      await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
      const path = join(root, "public", icon.file);
      await page.locator("svg").screenshot({ path, omitBackground: true });
      console.log(`${path} (${icon.size}×${icon.size})`);
    }
  } finally {
    await browser.close();
  }
}

void main();
