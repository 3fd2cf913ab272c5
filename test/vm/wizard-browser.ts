/**
 * The setup wizard walked in a real browser, as a new owner would: Debian's Chromium (headless,
 * driven by Playwright) opens the box by its name on the forwarded HTTPS port, claims it with the
 * setup code from the console, goes through every step and applies the plan, watching the apply
 * page until the plan is done or failed.
 *
 * The certificate is pinned, not ignored: the host first checks over TLS that the forwarded port
 * serves the certificate whose fingerprint the console showed, then tells Chromium to trust that
 * certificate's public key only (--ignore-certificate-errors-spki-list); any other certificate is
 * still an error in the browser (checked: Chromium 156 honours the flag headless, with the
 * --user-data-dir Playwright gives it).
 */
import { createHash, X509Certificate } from "node:crypto";
import tls from "node:tls";
import { type Browser, chromium, type Page } from "@playwright/test";
import { pollUntil } from "../../app/lib/poll";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../chromium";

/** The names the box answers to, resolved to the loopback where its HTTPS port is forwarded. */
const HOST_RULES = "--host-resolver-rules=MAP freehold.local 127.0.0.1,MAP homebox.local 127.0.0.1";

export interface WizardWalk {
  /** The host port forwarded to the guest's 443. */
  port: number;
  /** The certificate's SHA-256 fingerprint as the console shows it (AA:BB:...). */
  certSha256: string;
  setupCode: string;
  /** The name the browser opens (freehold.local before the owner renames the box). */
  host?: string;
  owner: { username: string; password: string; sshPublicKey: string };
  /** Catalog nodes to tick on the nodes step. */
  nodes: readonly string[];
  /** The data disk's radio on the storage step, e.g. /dev/vdb. */
  dataDisk: string;
  diskPassphrase: string;
  hostname: string;
  /** The USB backup disk's /dev/disk/by-id/ path, to pick (and format when blank); null: no backups. */
  usbBackup: string | null;
  updates: { security: "automatic" | "notify"; reboot: "window" | "never"; apps: "manual" | "automatic" };
  /** How long the apply page may take to show the plan done or failed. */
  applyTimeoutMs: number;
  /** How long one page or click may take (the guest is slow under TCG). */
  stepTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface WizardOutcome {
  /** The apply page's data-status once it settled: done or failed. */
  status: string;
  /** What the apply page shows (steps, states, errors), for messages. */
  page: string;
}

/**
 * Connects to the forwarded port, checks its certificate is the one the console showed, and
 * returns the base64 SHA-256 of its SubjectPublicKeyInfo (Chromium's SPKI pin format).
 */
export function pinnedSpki(port: number, certSha256: string, servername = "freehold.local"): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
    socket.setTimeout(30_000, () => socket.destroy(new Error(`TLS to 127.0.0.1:${port} timed out`)));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (cert.fingerprint256 !== certSha256) {
        reject(
          new Error(
            `the box serves certificate ${cert.fingerprint256}, not ${certSha256} as its console showed`,
          ),
        );
        return;
      }
      const spki = new X509Certificate(cert.raw).publicKey.export({ type: "spki", format: "der" });
      resolve(createHash("sha256").update(spki).digest("base64"));
    });
  });
}

/** The visible state of a wizard page: URL, heading, step list, alerts, apply steps. */
export async function describePage(page: Page): Promise<string> {
  const text = async (selector: string) =>
    (
      await page
        .locator(selector)
        .allInnerTexts()
        .catch(() => [] as string[])
    )
      .map((t) => t.trim())
      .filter(Boolean);
  const [headings, steps, alerts, status, applied] = await Promise.all([
    text("h1"),
    text('nav[aria-label="Setup steps"] li[aria-current="step"]'),
    text('[role="alert"]'),
    text('[data-testid="plan-status"]'),
    text('[data-testid="apply-step"]'),
  ]);
  return [
    `page: ${page.url()}`,
    `heading: ${headings.join(" / ") || "(none)"}`,
    `current step: ${steps.join(", ") || "(none)"}`,
    `alerts: ${alerts.join(" | ") || "(none)"}`,
    ...(status.length ? [`plan status: ${status.join(" ")}`] : []),
    ...applied.map((s) => `  ${s.replace(/\s+/g, " ").slice(0, 1500)}`),
  ].join("\n");
}

/**
 * Runs `fn` on a page of a fresh Chromium that trusts only the box's pinned certificate; a failure
 * carries what the page showed. The browser is closed whatever happens.
 */
async function inPinnedBrowser<T>(
  target: { port: number; certSha256: string; host: string; stepTimeoutMs?: number },
  what: string,
  fn: (page: Page) => Promise<T>,
): Promise<T> {
  const spki = await pinnedSpki(target.port, target.certSha256, target.host);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, HOST_RULES, `--ignore-certificate-errors-spki-list=${spki}`],
    });
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(target.stepTimeoutMs ?? 180_000);
    page.setDefaultNavigationTimeout(target.stepTimeoutMs ?? 180_000);
    try {
      return await fn(page);
    } catch (error) {
      const e = error as Error;
      e.message = `${what} failed: ${e.message}\n--- the page ---\n${await describePage(page)}`;
      throw e;
    }
  } finally {
    await browser?.close();
  }
}

/** Claims the box and walks every step in the browser, then waits for the apply page to settle. */
export async function walkWizard(walk: WizardWalk): Promise<WizardOutcome> {
  const log = walk.log ?? (() => undefined);
  const host = walk.host ?? "freehold.local";
  return inPinnedBrowser({ ...walk, host }, "The wizard walk", async (page) => {
    await steps(page, walk, host, log);
    return settle(page, walk, log);
  });
}

export interface BrowserUnlock {
  port: number;
  certSha256: string;
  /** The box's name (homebox.local once renamed). */
  host: string;
  owner: { username: string; password: string };
  passphrase: string;
  /** Tried first; the page must refuse it with a message and stay locked. */
  wrongPassphrase: string;
}

/**
 * After a reboot: signs in on the login page, finds the data locked on the dashboard, is refused
 * with a wrong passphrase, unlocks with the right one. Returns the states the dashboard showed.
 */
export async function unlockInBrowser(
  unlock: BrowserUnlock,
): Promise<{ before: string; after: string; refusal: string }> {
  return inPinnedBrowser(unlock, "Unlocking from the dashboard", async (page) => {
    await page.goto(`https://${unlock.host}:${unlock.port}/dashboard`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await page.getByLabel("User name").fill(unlock.owner.username);
    await page.getByLabel("Password", { exact: true }).fill(unlock.owner.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    const state = page.getByTestId("volume-state");
    await state.waitFor();
    const before = (await state.getAttribute("data-state")) ?? "";
    const field = page.getByLabel("Disk passphrase or recovery key");
    await field.fill(unlock.wrongPassphrase);
    await page.getByRole("button", { name: "Unlock" }).click();
    const alert = page.locator("form", { has: field }).getByRole("alert").filter({ hasText: /\S/ });
    await alert.waitFor();
    const refusal = ((await alert.textContent()) ?? "").trim();
    await field.fill(unlock.passphrase);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.locator('[data-testid="volume-state"][data-state="unlocked"]').waitFor();
    return { before, after: "unlocked", refusal };
  });
}

/** Waits for a step's heading, so each action happens on the page it is meant for. */
async function onStep(page: Page, heading: string, log: (line: string) => void): Promise<void> {
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  log(`[wizard] ${heading} (${new URL(page.url()).pathname})`);
}

async function steps(page: Page, walk: WizardWalk, host: string, log: (line: string) => void) {
  // The setup code rides in the fragment (as the console's QR code carries it): never sent to the server.
  await page.goto(`https://${host}:${walk.port}/setup#code=${walk.setupCode}`);
  const code = page.getByLabel("Setup code");
  await pollUntil(async () => ((await code.inputValue()) === walk.setupCode ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 250,
    timedOut: () => new Error("the claim page did not take the setup code from the URL's fragment"),
  });
  await page.getByLabel("User name").fill(walk.owner.username);
  await page.getByLabel("Password", { exact: true }).fill(walk.owner.password);
  await page.getByLabel("Password again").fill(walk.owner.password);
  await page.getByLabel("SSH public key (optional)").fill(walk.owner.sshPublicKey);
  await page.getByRole("button", { name: "Claim this box" }).click();

  await onStep(page, "Your hardware", log);
  await page.getByRole("link", { name: "Continue" }).click();

  await onStep(page, "What should the box run?", log);
  for (const id of walk.nodes) await page.getByTestId(`node-${id}`).getByRole("checkbox").check();
  await page.getByRole("button", { name: "Continue" }).click();

  await onStep(page, "Local language models", log);
  await page.getByRole("button", { name: "Continue" }).click();

  await onStep(page, "Where your data lives", log);
  await page.locator(`input[type="radio"][name="disk"][value="${walk.dataDisk}"]`).check();
  const encrypt = page.getByLabel("Encrypt the data (LUKS2; recommended)");
  if (!(await encrypt.isChecked())) throw new Error("encryption was not checked by default");
  await page.getByLabel("Disk passphrase", { exact: true }).fill(walk.diskPassphrase);
  await page.getByLabel("Disk passphrase again").fill(walk.diskPassphrase);
  await page.getByRole("button", { name: "Continue" }).click();

  await onStep(page, "Name and reach", log);
  await page.getByLabel("Name of the box").fill(walk.hostname);
  await page.locator('input[type="radio"][name="ssh"][value="lan"]').check();
  // Each node's exposure stays as offered (the local network only).
  await page.getByRole("button", { name: "Continue" }).click();

  await onStep(page, "Backups", log);
  if (walk.usbBackup) {
    await page.getByLabel("A USB disk plugged into the box").check();
    const select = page.getByLabel("USB disk", { exact: true });
    const offered = await page
      .locator("#usbDisk option")
      .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))
      .catch(() => [] as string[]);
    if (!offered.includes(walk.usbBackup))
      throw new Error(
        `the backups step does not offer ${walk.usbBackup} (offered: ${offered.join(", ") || "nothing"})`,
      );
    await select.selectOption(walk.usbBackup);
    await page.getByLabel(/Format it for backups \(ext4\) if it is blank/).check();
    if (!(await page.getByLabel(/Check the backups every month/).isChecked()))
      throw new Error("the monthly check was not on by default");
  } else {
    await page.getByLabel("No backups for now").check();
  }
  await page.getByRole("button", { name: "Continue" }).click();

  await onStep(page, "Updates", log);
  await page.getByLabel("Security updates").selectOption(walk.updates.security);
  await page.getByLabel("Reboots a kernel update needs").selectOption(walk.updates.reboot);
  await page.getByLabel("Node and model updates").selectOption(walk.updates.apps);
  await page.getByRole("button", { name: "Continue" }).click();

  await onStep(page, "Review the plan", log);
  await page.getByRole("button", { name: /make the recovery kit/ }).click();

  await onStep(page, "Your recovery kit", log);
  await page.getByLabel("I have printed or saved the recovery kit").check();
  await page.getByRole("button", { name: "Apply the plan" }).click();

  await onStep(page, "Applying the plan", log);
}

/** Polls the apply page's status attribute until the plan is done or failed. */
async function settle(page: Page, walk: WizardWalk, log: (line: string) => void): Promise<WizardOutcome> {
  const status = page.getByTestId("plan-status");
  let last = "";
  const settled = await pollUntil(
    async () => {
      const now = (await status.getAttribute("data-status", { timeout: 30_000 }).catch(() => null)) ?? "";
      const shown = ((await status.textContent({ timeout: 30_000 }).catch(() => "")) ?? "").trim();
      if (shown !== last) log(`[wizard] apply: ${now}: ${shown}`);
      last = shown;
      return now === "done" || now === "failed" ? now : undefined;
    },
    {
      timeoutMs: walk.applyTimeoutMs,
      intervalMs: 5000,
      timedOut: () =>
        new Error(
          `the apply page did not show the plan done or failed within ${walk.applyTimeoutMs / 1000} s`,
        ),
    },
  );
  return { status: settled, page: await describePage(page) };
}
