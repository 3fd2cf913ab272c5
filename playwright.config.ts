import { defineConfig } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./test/chromium";

const previewPort = 3310;
const devPort = 3311;
const dbDir = ".cache/e2e";

export default defineConfig({
  testDir: "test/e2e",
  outputDir: ".cache/e2e/results",
  timeout: 60_000,
  retries: 0,
  workers: 1,
  reporter: [
    ["list"],
    ["json", { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? ".cache/reports/e2e.json" }],
  ],
  use: {
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  projects: [
    // The production build (`npm run build`), as the appliance runs it, in preview mode.
    { name: "standalone", use: { baseURL: `http://127.0.0.1:${previewPort}` } },
    // `npm run dev`, what a contributor runs.
    { name: "dev", use: { baseURL: `http://127.0.0.1:${devPort}` }, testMatch: /preview\.spec\.ts/ },
  ],
  webServer: [
    {
      command: `rm -rf ${dbDir}/standalone && cd .next/standalone && NODE_ENV=production node server.cjs`,
      url: `http://127.0.0.1:${previewPort}/`,
      env: {
        PORT: String(previewPort),
        FREEHOLD_DB: `${process.cwd()}/${dbDir}/standalone/freehold.db`,
        // Paced so the wizard test can reload mid-apply; one op fails once to exercise retry.
        FREEHOLD_PREVIEW_STEP_MS: "400",
        FREEHOLD_PREVIEW_FAIL_ONCE: "firewall.apply",
      },
      timeout: 60_000,
      reuseExistingServer: false,
    },
    {
      command: "npm run --silent dev",
      url: `http://127.0.0.1:${devPort}/`,
      env: { PORT: String(devPort), FREEHOLD_DB: `${process.cwd()}/${dbDir}/dev/freehold.db` },
      timeout: 180_000,
      reuseExistingServer: false,
    },
  ],
});
