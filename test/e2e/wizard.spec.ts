import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import AxeBuilder from "@axe-core/playwright";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";

// The whole wizard in preview mode against the standalone build: claim (wrong code, a race,
// replay), the steps, review with the exact commands, the recovery kit, apply with a reload
// mid-way and a failed step retried, and the wizard closed for good afterwards.
test.skip(({ baseURL }) => !baseURL?.endsWith(":3310"), "runs against the standalone build only");
test.describe.configure({ mode: "serial" });

const ORIGIN = "http://127.0.0.1:3310";
const PASSWORD = "maple river lantern 42";
const setupCode = () => readFileSync(".cache/e2e/standalone/setup-code", "utf8").trim();

async function noSeriousAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
}

let owner: { context: BrowserContext; page: Page; username: string };

test("the wizard's first-load JavaScript is at most 200 kB gzipped", async ({ page }) => {
  await page.goto("/setup");
  const sources = await page
    .locator("script[src]")
    .evaluateAll((els) => els.map((e) => e.getAttribute("src") ?? ""));
  let total = 0;
  for (const src of new Set(sources)) {
    const file = `.next/standalone${new URL(src, ORIGIN).pathname.replace(/^\/_next/, "/.next")}`;
    total += gzipSync(readFileSync(file)).length;
  }
  console.log(
    `wizard first-load JavaScript: ${(total / 1000).toFixed(1)} kB gzipped in ${new Set(sources).size} files`,
  );
  expect(total).toBeGreaterThan(10_000);
  expect(total).toBeLessThanOrEqual(200_000);
});

test("a wrong setup code is refused on the claim page", async ({ page }) => {
  await page.goto("/setup");
  await noSeriousAxeViolations(page);
  await page.getByLabel("Setup code").fill("ZZZZ-ZZZZ-ZZZZ-ZZZZ");
  await page.getByLabel("User name").fill("alice");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password again").fill(PASSWORD);
  await page.getByRole("button", { name: "Claim this box" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "not this box's setup code" })).toBeVisible();
});

test("the claim page fits a phone-sized screen and reads the code from the URL fragment", async ({
  browser,
}) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto(`/setup#code=${setupCode()}`);
  await expect(page.getByLabel("Setup code")).toHaveValue(setupCode());
  expect(new URL(page.url()).hash).toBe("");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await context.close();
});

test("two browsers racing with the right code get exactly one owner", async ({ browser }) => {
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  const pages = await Promise.all(contexts.map((c) => c.newPage()));
  await Promise.all(pages.map((p) => p.goto("/setup")));
  const names = ["alice", "bob"];
  const answers = await Promise.all(
    pages.map((p, i) =>
      p.evaluate(
        async ({ code, username, password }) => {
          const r = await fetch("/api/setup/claim", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ code, username, password, passwordConfirm: password }),
          });
          return { status: r.status, body: await r.json() };
        },
        { code: setupCode(), username: names[i] ?? "x", password: PASSWORD },
      ),
    ),
  );
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([200, 403]);
  const winner = answers.findIndex((a) => a.status === 200);
  const loser = 1 - winner;
  expect(answers[loser]?.body.error).toBe("closed");
  owner = {
    context: contexts[winner] as BrowserContext,
    page: pages[winner] as Page,
    username: names[winner] ?? "",
  };
  await contexts[loser]?.close();

  // The session cookie: __Host-, HttpOnly, Secure, SameSite=Strict.
  const cookies = await owner.context.cookies();
  const session = cookies.find((c) => c.name === "__Host-freehold-session");
  expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
});

test("the claim is closed for good: a replayed code and the claim page are refused", async ({
  request,
  page,
}) => {
  const replay = await request.post("/api/setup/claim", {
    headers: { origin: ORIGIN },
    data: { code: setupCode(), username: "mallory", password: PASSWORD, passwordConfirm: PASSWORD },
  });
  expect(replay.status()).toBe(403);
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("the owner walks the wizard, applies the preview plan through a reload and a retry", async () => {
  test.setTimeout(120_000);
  const { page } = owner;
  await page.goto("/setup/hardware");
  await expect(page.getByTestId("hardware-summary")).toContainText("of memory");
  await page.getByRole("link", { name: "Continue" }).click();

  // Nodes: a choice with a dependency; the estimate follows the selection.
  await expect(page.getByRole("heading", { name: "What should the box run?" })).toBeVisible();
  await noSeriousAxeViolations(page);
  const cost = page.getByTestId("monthly-cost");
  const before = await cost.textContent();
  await page.getByTestId("node-nostr-relay").getByRole("checkbox").check();
  await expect(cost).not.toHaveText(before ?? "");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page.getByRole("heading", { name: "Local language models" })).toBeVisible();
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page.getByRole("heading", { name: "Where your data lives" })).toBeVisible();
  await expect(page.getByLabel("Encrypt the data (LUKS2; recommended)")).toBeChecked();
  await page.getByLabel("Disk passphrase", { exact: true }).fill("a long disk passphrase");
  await page.getByLabel("Disk passphrase again").fill("a different passphrase");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "same passphrase" })).toBeVisible();
  await page.getByLabel("Disk passphrase again").fill("a long disk passphrase");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page.getByRole("heading", { name: "Name and reach" })).toBeVisible();
  await page.getByLabel("Name of the box").fill("homebox");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page.getByRole("heading", { name: "Backups" })).toBeVisible();
  await page.getByLabel("Another computer over SFTP").check();
  await page.getByLabel("Host", { exact: true }).fill("nas.lan");
  await page.getByLabel("User", { exact: true }).fill("backup");
  await page
    .getByLabel("Server's SSH host key")
    .fill("nas.lan ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl");
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page.getByRole("heading", { name: "Updates" })).toBeVisible();
  await page.getByRole("button", { name: "Continue" }).click();

  // Review: every step, with the exact commands in preview mode.
  await expect(page.getByRole("heading", { name: "Review the plan" })).toBeVisible();
  const plan = page.getByTestId("plan-steps");
  for (const op of [
    "user.ensure",
    "hostname.set",
    "volume.encrypt",
    "firewall.apply",
    "ssh.configure",
    "node.install",
    "backup.configure",
  ]) {
    await expect(plan.locator(`li[data-op="${op}"]`).first()).toBeVisible();
  }
  await expect(plan).toContainText("hostnamectl set-hostname -- homebox");
  await expect(plan).toContainText("cryptsetup luksFormat --type luks2 --batch-mode --cipher");
  await expect(plan).toContainText("--subsystem freehold --key-file - --");
  await expect(plan).not.toContainText("a long disk passphrase");
  await page.getByRole("button", { name: /make the recovery kit/ }).click();

  // Recovery kit: shown until confirmed, downloadable, then apply.
  await expect(page.getByRole("heading", { name: "Your recovery kit" })).toBeVisible();
  const key = (await page.getByTestId("recovery-key").textContent()) ?? "";
  expect(key).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
  expect(await page.getByTestId("repository-password").textContent()).toMatch(
    /^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/,
  );
  const download = await page.request.get("/setup/recovery-kit/download");
  expect(await download.text()).toContain(key);
  await expect(page.getByRole("button", { name: "Apply the plan" })).toBeDisabled();
  await page.getByLabel("I have printed or saved the recovery kit").check();
  await page.getByRole("button", { name: "Apply the plan" }).click();

  // Apply: live progress; reload mid-way; the failing step shows its error and is retried.
  await expect(page.getByRole("heading", { name: "Applying the plan" })).toBeVisible();
  await expect(page.locator('[data-testid="apply-step"][data-state="done"]').first()).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Applying the plan" })).toBeVisible();
  const failed = page.locator('[data-testid="apply-step"][data-state="failed"]');
  await expect(failed).toHaveCount(1, { timeout: 30_000 });
  await expect(failed).toContainText("failed on purpose");
  await expect(page.getByTestId("plan-status")).toHaveAttribute("data-status", "failed");
  await noSeriousAxeViolations(page);
  await failed.getByRole("button", { name: "Retry this step" }).click();
  await expect(page.getByTestId("plan-status")).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(page.locator('[data-testid="apply-step"]:not([data-state="done"])')).toHaveCount(0);
  await expect(page.locator('[data-testid="apply-step"][data-op="volume.encrypt"]')).toContainText(
    "would run: cryptsetup luksFormat",
  );

  // The recovery kit is gone for good.
  expect((await page.request.get("/setup/recovery-kit/download")).status()).toBe(403);
  await page.getByRole("link", { name: "Go to the dashboard" }).click();
  await expect(page.getByTestId("dashboard-status")).toContainText("Setup is done");
});

test("after setup every setup route redirects or answers 403", async () => {
  const { page } = owner;
  for (const path of ["/setup", "/setup/nodes", "/setup/review", "/setup/recovery-kit", "/setup/apply"]) {
    await page.goto(path);
    await expect(page, path).toHaveURL(/\/dashboard$/);
  }
  for (const [method, path, data] of [
    [
      "PUT",
      "/api/setup/draft",
      {
        section: "updates",
        value: { security: "notify", reboot: "never", rebootTime: "04:00", apps: "manual" },
      },
    ],
    ["POST", "/api/setup/plan", {}],
    ["POST", "/api/setup/kit", { confirm: true }],
    ["POST", "/api/setup/retry", { position: 0 }],
    [
      "POST",
      "/api/setup/claim",
      { code: setupCode(), username: "eve", password: PASSWORD, passwordConfirm: PASSWORD },
    ],
  ] as const) {
    const r = await page.request.fetch(path, { method, headers: { origin: ORIGIN }, data });
    expect(r.status(), path).toBe(403);
  }
});

test("sign out, then sign in again with the password (wrong one refused)", async () => {
  const { page, username } = owner;
  await page.goto("/dashboard");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill("not the password!");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong user name or password" })).toBeVisible();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("dashboard-status")).toBeVisible();
  await owner.context.close();
});
