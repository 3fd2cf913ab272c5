import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, expect, type Page } from "@playwright/test";
import Database from "better-sqlite3";

/**
 * A box of its own for a dashboard spec: the standalone build on its own port and database (preview
 * mode), claimed through the API by alice (the browser keeps the session), with a setup plan marked
 * done, so the dashboard opens. `steps` are that plan's steps (the preview stand-ins show them).
 */
export interface OwnedBox {
  origin: string;
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations the page's console reported. */
  cspViolations: string[];
  log(): string;
  stop(): Promise<void>;
}

export async function startOwnedBox(
  browser: Browser,
  opts: {
    port: number;
    name: string;
    password: string;
    steps?: { op: string; input: unknown }[];
    /** The setup plan's `choices` (the wizard draft it was built from); default none recorded. */
    choices?: unknown;
    env?: Record<string, string>;
  },
): Promise<OwnedBox> {
  const origin = `http://127.0.0.1:${opts.port}`;
  const dir = path.resolve(".cache/e2e", opts.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let log = "";
  const server: ChildProcess = spawn(process.execPath, ["server.cjs"], {
    cwd: ".next/standalone",
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(opts.port),
      FREEHOLD_DB: path.join(dir, "freehold.db"),
      FREEHOLD_MODE: "preview",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout?.on("data", (d) => {
    log += d;
  });
  server.stderr?.on("data", (d) => {
    log += d;
  });
  await expect
    .poll(async () => (await fetch(`${origin}/login`).catch(() => null))?.status ?? 0, { timeout: 60_000 })
    .toBe(200);

  const context = await browser.newContext({ baseURL: origin, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto("/setup");
  const code = readFileSync(path.join(dir, "setup-code"), "utf8").trim();
  const claim = await page.evaluate(
    async ({ code, password }) => {
      const r = await fetch("/api/setup/claim", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code, username: "alice", password, passwordConfirm: password }),
      });
      return r.status;
    },
    { code, password: opts.password },
  );
  expect(claim).toBe(200);
  // Setup done, as if the plan had been applied: the dashboard opens only then.
  const db = new Database(path.join(dir, "freehold.db"));
  const now = new Date().toISOString();
  const planId = `e2e-${opts.name}`;
  db.prepare(
    `INSERT INTO "Plan" (id, kind, status, updatedAt, finishedAt, choices) VALUES (?, 'setup', 'done', ?, ?, ?)`,
  ).run(planId, now, now, JSON.stringify(opts.choices ?? {}));
  const insertStep = db.prepare(
    `INSERT INTO "PlanStep" (planId, position, op, input, state, finishedAt) VALUES (?, ?, ?, ?, 'done', ?)`,
  );
  for (const [position, s] of (opts.steps ?? []).entries())
    insertStep.run(planId, position, s.op, JSON.stringify(s.input), now);
  db.close();

  return {
    origin,
    context,
    page,
    cspViolations,
    log: () => log,
    async stop() {
      await context.close();
      server.kill("SIGTERM");
    },
  };
}
