import { expect, type Page, test } from "@playwright/test";
import { type OwnedBox, startOwnedBox } from "./owned-box";

// The web terminal in Debian's Chromium against the standalone build (preview mode: the shell is the
// server's own user's, in node-pty). The spec runs its own server on a fresh database, so it does not
// depend on the wizard spec's claim: it claims that box through the API and marks its setup done.
test.skip(({ baseURL }) => !baseURL?.endsWith(":3310"), "runs against the standalone build only");
test.describe.configure({ mode: "serial" });

const PORT = 3313;
const PASSWORD = "maple river lantern 42";

let box: OwnedBox;
let page: Page;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(90_000);
  box = await startOwnedBox(browser, { port: PORT, name: "terminal", password: PASSWORD });
  page = box.page;
});

test.afterAll(async () => {
  await box?.stop();
});

const rows = () => page.locator('[data-testid="terminal"] .xterm-rows');

async function run(command: string) {
  await page.locator('[data-testid="terminal"]').click();
  await page.keyboard.type(command);
  await page.keyboard.press("Enter");
}

async function size(): Promise<{ cols: number; rows: number }> {
  const box = page.getByTestId("terminal");
  return {
    cols: Number(await box.getAttribute("data-cols")),
    rows: Number(await box.getAttribute("data-rows")),
  };
}

test("the owner opens the terminal with the password and runs a command", async () => {
  await page.goto("/dashboard");
  await expect(page.getByTestId("dashboard-status")).toContainText("Signed in as alice");
  await page.getByRole("button", { name: "Open the terminal" }).click();
  await page.getByLabel("Your password (to open the terminal)").fill("not the password");
  await page.getByRole("button", { name: "Open the terminal" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong password" })).toBeVisible();
  await page.getByLabel("Your password (to open the terminal)").fill(PASSWORD);
  await page.getByRole("button", { name: "Open the terminal" }).click();
  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "open");
  await run("echo freehold-$((6*7))");
  // The first answer waits for the login shell to read its profile (seconds on a busy machine).
  await expect(rows()).toContainText("freehold-42", { timeout: 30_000 });
});

test("the pty follows the browser's size", async () => {
  const before = await size();
  await run("stty size");
  await expect(rows()).toContainText(`${before.rows} ${before.cols}`);
  await page.setViewportSize({ width: 640, height: 700 });
  await expect.poll(async () => (await size()).cols).toBeLessThan(before.cols);
  const after = await size();
  await run("clear; stty size");
  await expect(rows()).toContainText(`${after.rows} ${after.cols}`);
  expect(after).not.toEqual(before);
});

test("a reload reattaches to the same shell without the password", async () => {
  await run("export FH_MARK=reattached-$((40+2))");
  await page.reload();
  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "open");
  await expect(page.getByLabel("Your password (to open the terminal)")).toHaveCount(0);
  await run('echo "$FH_MARK"');
  await expect(rows()).toContainText("reattached-42");
});

test("a WebSocket without a ticket, or with a made-up one, is refused", async () => {
  const codes = await page.evaluate(async () => {
    const tryOpen = (query: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/api/terminal/ws${query}`);
        ws.onopen = () => resolve("open");
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      });
    return [await tryOpen(""), await tryOpen(`?ticket=${"A".repeat(43)}`)];
  });
  expect(codes).toEqual(["closed 1006", "closed 1006"]);
});

test("ending the terminal closes the shell; the audit log names every step", async () => {
  await page.getByRole("button", { name: "End the terminal" }).click();
  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "closed");
  await expect(page.getByTestId("terminal-status")).toContainText("The terminal was closed.");
  await page.reload();
  await expect(page.getByTestId("terminal-status")).toHaveAttribute("data-state", "closed");
  const events = page.getByRole("table", { name: "Recent events" });
  for (const text of [
    "A wrong password was entered to open the terminal",
    "The password was confirmed to open the terminal",
    "The terminal was opened",
    "The terminal was reattached after a reload",
    "The terminal was closed",
    "A terminal connection was refused",
  ]) {
    await expect(events, text).toContainText(text);
  }
  expect(box.cspViolations, box.log().slice(-2000)).toEqual([]);
});
