import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("scripts/bootstrap", () => {
  it("--check reports a missing Debian package and exits 1 without installing", async () => {
    const failure = await run("scripts/bootstrap", ["--check"], {
      env: { ...process.env, FREEHOLD_BOOTSTRAP_EXTRA_PACKAGES: "freehold-no-such-package" },
    }).catch((e: { code: number; stdout: string }) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stdout: string }).stdout).toContain(
      "missing Debian packages: freehold-no-such-package",
    );
  });

  it("tells a non-root user to run it as root when something is missing", async () => {
    // setpriv drops to nobody without a login; the repository stays readable.
    const failure = await run(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "bash", "scripts/bootstrap"],
      { env: { ...process.env, FREEHOLD_BOOTSTRAP_EXTRA_PACKAGES: "freehold-no-such-package" } },
    ).catch((e: { code: number; stdout: string }) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stdout: string }).stdout).toMatch(/needs root: run 'sudo scripts\/bootstrap'/);
  });

  it("finds everything installed on a bootstrapped machine", async () => {
    const { stdout } = await run("scripts/bootstrap", ["--check"]);
    expect(stdout).toContain("everything is installed");
  });
});
