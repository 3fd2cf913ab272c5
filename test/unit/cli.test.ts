import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const freehold = (args: string[]) => run(process.execPath, ["scripts/freehold.mjs", ...args]);

describe("the freehold command", () => {
  it("lists its subcommands with --help", async () => {
    const { stdout } = await freehold(["--help"]);
    expect(stdout).toMatch(/^Usage: freehold/m);
    expect(stdout).toMatch(/^\s+detect\b/m);
    expect(stdout).toMatch(/^\s+db\b/m);
  });

  it("exits non-zero and says why on an unknown subcommand", async () => {
    const failure = await freehold(["frobnicate"]).catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain("unknown command 'frobnicate'");
  });
});
