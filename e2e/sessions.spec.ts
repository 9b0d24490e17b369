import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { join } from "node:path";
import { freePort, startServer, tempDir, type ServerHandle } from "../lib/server/testing/servers";

/**
 * A hub of its own with sign-in on, restarted under a signed-in page on the same ports and
 * database: the session survives a restart (the live view reconnects with a new credential
 * instead of looping), and a new operator password sends the page to sign-in and back to the
 * same deep link.
 */
test("a restart keeps the operator signed in and the live view reconnects; a new password leads to sign-in and back to the same page", async ({
  page,
}) => {
  test.setTimeout(90_000);
  const env = {
    RRPC_DB: join(tempDir(), "rrpc.db"),
    RRPC_SIMULATOR: "0",
    PORT: String(await freePort()),
    MQTT_PORT: String(await freePort()),
    MQTT_WS_PORT: String(await freePort()),
  };
  const FIRST = "first operator password";
  const SECOND = "second operator password";
  let s: ServerHandle = await startServer({ ...env, RRPC_OPERATOR_PASSWORD: FIRST });
  const deepLink = "/history?deviceName=kitchen";
  const live = page.getByTestId("live-indicator");
  const signIn = async (p: Page, password: string) => {
    await expect(p).toHaveURL(/\/login\?next=/);
    await p.getByLabel("User").fill("admin");
    await p.getByLabel("Password").fill(password);
    await p.getByRole("button", { name: "Sign in" }).click();
    await expect(p).toHaveURL(s.url + deepLink);
  };
  try {
    await page.goto(s.url + deepLink);
    await signIn(page, FIRST);
    await expect(live).toHaveAttribute("data-state", "connected");

    await s.stop();
    await expect(live).not.toHaveAttribute("data-state", "connected");
    s = await startServer({ ...env, RRPC_OPERATOR_PASSWORD: FIRST });
    // The old live credential is refused by the new process: the page fetches a new one, with its session.
    await expect(live).toHaveAttribute("data-state", "connected", { timeout: 20_000 });
    await expect(page).toHaveURL(s.url + deepLink);

    await s.stop();
    s = await startServer({ ...env, RRPC_OPERATOR_PASSWORD: SECOND });
    await signIn(page, SECOND);
    await expect(live).toHaveAttribute("data-state", "connected");
  } finally {
    await s.stop();
  }
});
