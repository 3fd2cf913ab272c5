import { execFileSync } from "node:child_process";
import os from "node:os";
import { expect, test } from "@playwright/test";
import { HardwareProfileSchema } from "../../app/_schemas/hardware";

// The page must show this machine's real hardware: compare it with the CLI's profile and with
// what the kernel reports directly.
const profile = HardwareProfileSchema.parse(
  JSON.parse(
    execFileSync(process.execPath, ["scripts/freehold.mjs", "detect", "--json"], { encoding: "utf8" }),
  ),
);

test("the preview page shows this machine's CPU, memory and disks", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);

  await expect(page.getByRole("heading", { name: "Freehold", level: 1 })).toBeVisible();
  await expect(page.getByRole("region", { name: "Preview mode" })).toContainText(
    "nothing on this machine will be changed",
  );

  await expect(page.getByTestId("cpu-cores")).toHaveText(
    `${profile.cpu.cores} cores, ${profile.cpu.threads} threads`,
  );
  expect(profile.cpu.threads).toBe(os.cpus().length);
  await expect(page.getByTestId("cpu-arch")).toHaveText(os.arch() === "x64" ? "amd64" : "arm64");

  const memory = page.getByTestId("memory-total");
  await expect(memory).toHaveAttribute("data-bytes", String(os.totalmem()));

  const rows = page.getByTestId("disk-row");
  await expect(rows).toHaveCount(profile.disks.length);
  for (const disk of profile.disks) {
    await expect(rows.filter({ hasText: disk.path })).toHaveCount(1);
  }
  await expect(page.getByTestId("claim-state")).toHaveText("Not claimed yet.");
});

test("responses carry the security headers", async ({ request }) => {
  const response = await request.get("/");
  const headers = response.headers();
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-powered-by"]).toBeUndefined();
});
