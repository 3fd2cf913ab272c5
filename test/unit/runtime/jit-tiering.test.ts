import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tiersToRestore } from "../../../app/lib/runtime/jit-tiering";
import { INTERPRETED, TURBOFANNED } from "./v8-status";

const run = promisify(execFile);

describe("deferred JIT tiering", () => {
  it("restores exactly the tiers the command line turned off", () => {
    expect(tiersToRestore([])).toEqual([]);
    expect(tiersToRestore(["--enable-source-maps", "--max-old-space-size=256"])).toEqual([]);
    expect(tiersToRestore(["--no-turbofan", "--no-sparkplug"])).toEqual(["--turbofan", "--sparkplug"]);
    // --no-opt is V8's alias of --no-turbofan: one flag to restore.
    expect(tiersToRestore(["--no-opt", "--no-turbofan"])).toEqual(["--turbofan"]);
  });

  it("optimizes nothing before the restore and hot code after it, in a real node", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        "--allow-natives-syntax",
        "--no-turbofan",
        "--no-sparkplug",
        "--import",
        "tsx",
        "test/unit/runtime/tiering-child.ts",
      ],
      { timeout: 30_000 },
    );
    const { before, after, restored } = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(restored).toEqual(["--turbofan", "--sparkplug"]);
    expect(before & TURBOFANNED).toBe(0);
    expect(before & INTERPRETED).toBe(INTERPRETED);
    expect(after & TURBOFANNED).toBe(TURBOFANNED);
  }, 40_000);

  it("leaves a node started without deferred tiers alone", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--allow-natives-syntax", "--import", "tsx", "test/unit/runtime/tiering-child.ts"],
      { timeout: 30_000 },
    );
    const { before, restored } = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    expect(restored).toEqual([]);
    // With its tiers on from the start, the same loop is optimized before any restore.
    expect(before & TURBOFANNED).toBe(TURBOFANNED);
  }, 40_000);
});
