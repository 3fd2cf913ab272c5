import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import { type OwnedBox, startOwnedBox } from "./owned-box";

// The maintenance dashboard in Debian's Chromium against the standalone build, in preview mode: its
// own server on its own port and database; the box is claimed through the API and given a setup
// plan that is done (a relay, a firewall, an update policy), so the preview stand-ins have
// something to show. The resource charts are this machine's real figures.
test.skip(({ baseURL }) => !baseURL?.endsWith(":3310"), "runs against the standalone build only");
test.describe.configure({ mode: "serial" });

const PORT = 3314;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const PASSWORD = "maple river lantern 42";

let box: OwnedBox;
let page: Page;

const STEPS = [
  {
    op: "firewall.apply",
    input: { lan: [{ port: 22, protocol: "tcp" }], internet: [{ port: 7777, protocol: "tcp" }] },
  },
  {
    op: "updates.configure",
    input: { security: "automatic", reboot: "window", rebootTime: "04:00", apps: "manual" },
  },
  { op: "node.install", input: { id: "nostr-relay" } },
];

test.beforeAll(async ({ browser }) => {
  test.setTimeout(90_000);
  box = await startOwnedBox(browser, {
    port: PORT,
    name: "dashboard",
    password: PASSWORD,
    steps: STEPS,
    env: { FREEHOLD_PREVIEW_STEP_MS: "200" },
  });
  page = box.page;
});

test.afterAll(async () => {
  await box?.stop();
});

test("the dashboard shows every card, labelled as preview data, and draws the resource charts", async () => {
  await page.goto("/dashboard");
  await expect(page.getByTestId("dashboard-status")).toContainText("Signed in as alice");
  await expect(page.getByTestId("preview-banner")).toContainText("preview data");
  for (const card of ["nodes", "resources", "encryption", "backups", "updates", "firewall"]) {
    await expect(page.getByTestId(`card-${card}`), card).toBeVisible();
  }
  // Nodes: the relay the plan installs, with its unit and a disabled restart (nothing runs here).
  const relay = page.locator('[data-node="nostr-relay"]');
  await expect(relay).toContainText("Nostr relay");
  await expect(relay).toContainText("freehold-nostr-relay.service");
  await expect(relay.getByRole("button", { name: "Restart" })).toBeDisabled();
  await expect(page.getByTestId("services")).toContainText("freehold-web.service");
  // Firewall and updates from the plan; the volume card as before.
  await expect(page.getByTestId("firewall-policy")).toContainText("dropped unless listed");
  await expect(page.getByTestId("firewall-internet")).toHaveText("7777/tcp");
  await expect(page.getByTestId("card-firewall")).toContainText("22/tcp, 80/tcp, 443/tcp, 5353/udp");
  await expect(page.getByTestId("updates-pending")).toContainText("preview");
  await expect(page.getByTestId("volume-state")).toHaveAttribute("data-state", "absent");
  await expect(page.getByTestId("backups-preview")).toBeVisible();
  await expect(page.getByRole("button", { name: "Back up now" })).toBeDisabled();

  // Charts: inline SVG paths of real /proc figures (memory at once, CPU after two readings).
  const memory = page.getByTestId("chart-mem").locator("svg path");
  await expect(memory).toHaveAttribute("d", /^M[\d.]+,[\d.]+L/);
  await expect(page.getByTestId("chart-cpu").locator("svg path")).toHaveAttribute("d", /^M/, {
    timeout: 20_000,
  });
  await expect(page.getByTestId("value-mem")).toHaveText(/^\d+ %$/);
  await expect(page.getByTestId("chart-disk").locator("svg")).toHaveAttribute("role", "img");
  const metrics = await page.evaluate(async () => (await fetch("/api/dashboard/metrics")).json());
  expect(metrics.ok).toBe(true);
  expect(metrics.points.length).toBeGreaterThan(0);
  expect(typeof metrics.points.at(-1).mem).toBe("number");
  expect(metrics.latest.memory.totalBytes).toBeGreaterThan(0);

  const axe = await new AxeBuilder({ page }).analyze();
  const serious = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
});

test("the log viewer says why preview mode has no logs", async () => {
  await page.locator('[data-node="nostr-relay"]').getByRole("button", { name: "Logs" }).click();
  await expect(
    page.getByRole("alert").filter({ hasText: "Preview mode: no Freehold services run here" }),
  ).toBeVisible();
});

test("the update policy changes through a one-step plan of the plan engine", async () => {
  const form = page.getByTestId("updates-form");
  await form.getByLabel("Only tell me here").check();
  await form.getByLabel("Never restart by itself").check();
  await form.getByRole("button", { name: "Save the update policy" }).click();
  await expect(page.getByTestId("updates-change")).toHaveAttribute("data-status", "done", {
    timeout: 30_000,
  });
  await expect(page.getByTestId("updates-change")).toContainText("Applied and verified (preview");
  await page.getByText("What the step did").click();
  await expect(page.getByTestId("updates-change")).toContainText(
    "would run: write /etc/apt/apt.conf.d/20auto-upgrades",
  );
  await page.reload();
  await expect(page.getByTestId("updates-form").getByLabel("Only tell me here")).toBeChecked();
  await expect(page.getByTestId("updates-form").getByLabel("Never restart by itself")).toBeChecked();
  await expect(page.getByRole("table", { name: "Recent events" })).toContainText(
    "A setting was changed from the dashboard",
  );
});

test("the API wants a session, a valid body, and refuses actions in preview", async () => {
  expect((await fetch(`${ORIGIN}/api/dashboard/metrics`)).status).toBe(401);
  expect((await fetch(`${ORIGIN}/api/dashboard/status`)).status).toBe(401);
  expect((await fetch(`${ORIGIN}/api/dashboard/logs?unit=ssh.service`)).status).toBe(401);
  const post = (url: string, body: unknown) =>
    page.evaluate(
      async ({ url, body }) => {
        const r = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return r.status;
      },
      { url, body },
    );
  expect(await post("/api/dashboard/nodes/restart", { id: "../x" })).toBe(422);
  expect(await post("/api/dashboard/nodes/restart", { id: "nostr-relay" })).toBe(409);
  expect(await post("/api/dashboard/backup", {})).toBe(409);
  expect(await post("/api/dashboard/settings/updates", { security: "sometimes" })).toBe(422);
  const logs = await page.evaluate(
    async () => (await fetch("/api/dashboard/logs?unit=ssh.service%3B%20reboot")).status,
  );
  expect(logs).toBe(422);
  expect(box.cspViolations, box.log().slice(-2000)).toEqual([]);
});
