import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { trackChild } from "../../../image/vm/qemu";

const sh = (script: string) => spawn("sh", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });

describe("the VM harness's children (QEMU, swtpm)", () => {
  it("records the exit code and keeps only the tail of stderr", async () => {
    const tracked = trackChild(sh("printf 'early noise 0123456789 last words' >&2; exit 3"), 10);
    expect(tracked.exitCode()).toBeUndefined();
    expect(await tracked.exited).toBe(3);
    expect(tracked.exitCode()).toBe(3);
    expect(tracked.stderr()).toBe("last words");
  });

  it("reads a kill as an exit with no code", async () => {
    const child = sh("sleep 30");
    const tracked = trackChild(child, 100);
    child.kill("SIGKILL");
    expect(await tracked.exited).toBeNull();
    expect(tracked.exitCode()).toBeNull();
  });

  it("reads a command that could not start as exited, with no code", async () => {
    const child = spawn("/nonexistent/freehold-no-such-tool", [], { stdio: ["ignore", "ignore", "pipe"] });
    const tracked = trackChild(child, 100);
    expect(await tracked.exited).toBeNull();
    expect(tracked.exitCode()).toBeNull();
  });
});
