#!/usr/bin/env node
// Runs the suites in order, reads each runner's own JSON report, and ends with one line
// `N passed, N failed` summed over all of them. A suite that cannot report (it crashed, or a
// step it needs failed) counts as one failure, so a run that executed nothing is visible.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

const reports = ".cache/reports";
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", FORCE_COLOR: "0" };

function run(argv) {
  const started = Date.now();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: "inherit", env });
  return { ok: result.status === 0, seconds: (Date.now() - started) / 1000 };
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

// Vitest's JSON reporter has Jest's shape.
function vitestCounts(file) {
  const report = readJson(file);
  if (!report) return null;
  return { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests };
}

// Playwright's JSON reporter: expected = passed, unexpected = failed, flaky counts as failed.
function playwrightCounts(file) {
  const report = readJson(file);
  if (!report?.stats) return null;
  const { expected, unexpected, flaky, skipped } = report.stats;
  return { passed: expected, failed: unexpected + flaky, skipped };
}

const suites = [
  { name: "typecheck", argv: ["npx", "tsc", "--noEmit"] },
  { name: "lint", argv: ["npx", "biome", "check", "."] },
  {
    name: "unit",
    argv: [
      "npx",
      "vitest",
      "run",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${reports}/unit.json`,
    ],
    counts: () => vitestCounts(`${reports}/unit.json`),
  },
  { name: "build", argv: ["npm", "run", "--silent", "build"] },
  {
    name: "e2e",
    needs: "build",
    argv: ["npx", "playwright", "test"],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: `${reports}/e2e.json` },
    counts: () => playwrightCounts(`${reports}/e2e.json`),
  },
  {
    // Builds the images when their inputs changed, then boots them under QEMU: `npm run test:vm`.
    name: "vm",
    group: "vm",
    argv: [
      "npx",
      "vitest",
      "run",
      "--config",
      "vitest.vm.config.ts",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${reports}/vm.json`,
    ],
    counts: () => vitestCounts(`${reports}/vm.json`),
  },
];

// No arguments: every suite of the default group (npm test). Otherwise the suites named.
const only = process.argv.slice(2);
const results = [];
for (const suite of suites) {
  if (only.length > 0 ? !only.includes(suite.name) : (suite.group ?? "default") !== "default") continue;
  const blocker = suite.needs && results.find((r) => r.name === suite.needs && r.failed > 0);
  if (blocker) {
    results.push({
      name: suite.name,
      passed: 0,
      failed: 1,
      skipped: 0,
      note: `not run: ${suite.needs} failed`,
    });
    continue;
  }
  console.log(`\n=== ${suite.name}: ${suite.argv.join(" ")}`);
  Object.assign(env, suite.env ?? {});
  const { ok, seconds } = run(suite.argv);
  let counts = suite.counts ? suite.counts() : { passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 };
  if (!counts || (counts.passed + counts.failed === 0 && !ok)) {
    counts = { passed: 0, failed: 1, skipped: 0, note: "no report: the runner failed before reporting" };
  } else if (!ok && counts.failed === 0) {
    counts = { ...counts, failed: 1, note: "the runner exited non-zero" };
  }
  results.push({ name: suite.name, seconds, ...counts });
}

// The VM suite's audit of the provisioned box (test/vm/provision.test.ts writes it).
const security = `${reports}/vm-security.json`;
if (existsSync(security)) {
  try {
    const { lynis, sshAudit } = JSON.parse(readFileSync(security, "utf8"));
    console.log(
      `\nSecurity audit of the provisioned VM: Lynis hardening index ${lynis?.hardeningIndex ?? "not measured"}` +
        (lynis ? ` (${lynis.testsDone} tests)` : "") +
        `; ssh-audit ${sshAudit ? `${sshAudit.flagged.length} flagged, policy ${sshAudit.policyPassed ? "passed" : "failed"}` : "not run"}`,
    );
  } catch (error) {
    console.log(`\nSecurity audit report ${security} unreadable: ${error.message}`);
  }
}

console.log("\nSuite        passed  failed  skipped  seconds");
for (const r of results) {
  const row = [
    r.name.padEnd(12),
    String(r.passed).padStart(6),
    String(r.failed).padStart(7),
    String(r.skipped ?? 0).padStart(8),
    r.seconds === undefined ? "        -" : r.seconds.toFixed(1).padStart(9),
  ].join(" ");
  console.log(r.note ? `${row}  (${r.note})` : row);
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + (r.skipped ?? 0), 0);
if (!existsSync(reports)) mkdirSync(reports, { recursive: true });
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
