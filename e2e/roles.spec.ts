import { test, expect, seriousViolations } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";
import { startServer, type ServerHandle } from "../lib/server/testing/servers";

/**
 * Team accounts in the browser, on a hub of its own with sign-in on: a viewer's console cannot
 * send (and the API refuses the page's own request), an admin adds a user on the Users page
 * (axe-clean, light and dark), and repeated wrong passwords get a plain "try again in N s".
 */
const ADMIN_PASSWORD = "roles e2e admin password";
const PASSWORD = "roles e2e user password";
let s: ServerHandle;

test.beforeAll(async () => {
  s = await startServer({ RRPC_OPERATOR_PASSWORD: ADMIN_PASSWORD, RRPC_SIMULATOR: "0" });
});
test.afterAll(async () => {
  await s?.stop();
});

async function signIn(request: APIRequestContext, user: string, password: string) {
  const r = await request.post(`${s.url}/api/session`, { data: { user, password } });
  expect(r.status(), `${user} signs in`).toBe(200);
}

async function addUserByApi(page: Page, name: string, role: string) {
  const admin = await page.context().browser()!.newContext();
  await signIn(admin.request, "admin", ADMIN_PASSWORD);
  const r = await admin.request.post(`${s.url}/api/users`, { data: { name, role, password: PASSWORD } });
  expect(r.status()).toBe(201);
  await admin.close();
}

test("a viewer's console cannot send: Send is disabled with the reason, and a POST from the page gets 403", async ({ page }) => {
  await addUserByApi(page, "vera", "viewer");
  await signIn(page.request, "vera", PASSWORD);
  await page.goto(s.url + "/");
  const send = page.getByRole("button", { name: "Send command" });
  await expect(page.getByTestId("send-role-why")).toHaveText("Send is off: your role (viewer) cannot send calls.");
  await expect(send).toBeDisabled();
  await expect(send).toHaveAccessibleDescription("Send is off: your role (viewer) cannot send calls.");
  // The admin's pages are not offered.
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "History" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "API keys" })).toHaveCount(0);
  const answer = await page.evaluate(async () => {
    const r = await fetch("/api/calls", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ productId: "AIRCOND001", deviceName: "airConditioner1", payload: "closed" }),
    });
    return { status: r.status, body: (await r.json()) as { error: { code: string; message: string } } };
  });
  expect(answer.status).toBe(403);
  expect(answer.body.error).toEqual({ code: "forbidden", message: "needs role operator; your role is viewer" });
});

test("an admin adds a user on the Users page, and changes their role", async ({ page }) => {
  await signIn(page.request, "admin", ADMIN_PASSWORD);
  await page.goto(s.url + "/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await expect(page).toHaveURL(s.url + "/users");
  const form = page.getByRole("form", { name: "Add user" });
  await form.getByLabel("Name").fill("otto");
  await form.getByLabel("Role").selectOption("operator");
  await form.getByLabel(/Initial password/).fill(PASSWORD);
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Added" })).toHaveText("Added otto (operator).");
  const row = page.locator('tr[data-user="otto"]');
  await expect(row).toContainText("active");
  await expect(row.getByLabel("Role of otto")).toHaveValue("operator");
  await row.getByLabel("Role of otto").selectOption("viewer");
  await expect(row.getByLabel("Role of otto")).toHaveValue("viewer");

  // The new user signs in with the role the admin gave.
  const otto = await page.context().browser()!.newContext();
  await signIn(otto.request, "otto", PASSWORD);
  expect(await (await otto.request.get(`${s.url}/api/session`)).json()).toEqual({ required: true, user: "otto", role: "viewer" });
  await otto.close();
});

for (const colorScheme of ["light", "dark"] as const) {
  test(`axe finds no serious or critical violations on /users (${colorScheme})`, async ({ browser }) => {
    const ctx = await browser.newContext({ colorScheme });
    try {
      const page = await ctx.newPage();
      await page.emulateMedia({ colorScheme });
      await signIn(ctx.request, "admin", ADMIN_PASSWORD);
      await page.goto(s.url + "/users");
      await expect(page.locator('tr[data-user="admin"]')).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
}

test("repeated wrong passwords: the sign-in form says how long to wait", async ({ page }) => {
  await page.goto(s.url + "/login");
  await page.getByLabel("User").fill("mallory");
  await page.getByLabel("Password").fill("not the password at all");
  const alert = page.getByRole("form", { name: "Sign in" }).getByRole("alert");
  // The first failures are free; then each is slowed down, and the form says so.
  for (let i = 0; i < 8; i++) {
    const answered = page.waitForResponse((r) => r.url().endsWith("/api/session") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Sign in" }).click();
    if ((await answered).status() === 429) break;
    await expect(alert).toHaveText("wrong user name or password");
  }
  await expect(alert).toHaveText(/^Too many failed sign-ins; try again in \d+ s$/);
});
