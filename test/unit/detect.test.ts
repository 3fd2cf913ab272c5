import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { HardwareProfileSchema } from "../../app/_schemas/hardware";
import { detectHardware } from "../../app/lib/hardware/detect";

const run = promisify(execFile);

describe("detectHardware on this machine", () => {
  it("agrees with what the kernel reports", async () => {
    const profile = await detectHardware();
    expect(HardwareProfileSchema.parse(profile)).toEqual(profile);
    const memTotalKiB = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
    expect(profile.memory.totalBytes).toBe(memTotalKiB * 1024);
    expect(profile.cpu.threads).toBe(os.cpus().length);
    expect(profile.arch).toBe(os.arch() === "x64" ? "amd64" : "arm64");
    const cpuinfoFlags =
      readFileSync("/proc/cpuinfo", "utf8").match(/^(flags|Features)\s*:(.*)$/m)?.[2] ?? "";
    for (const flag of profile.cpu.flags) expect(cpuinfoFlags.split(/\s+/)).toContain(flag);
    const { stdout } = await run("lsblk", ["--nodeps", "--noheadings", "--output", "NAME,TYPE"]);
    const realDisks = stdout
      .split("\n")
      .filter((l) => / disk$/.test(l.trim()) && !/^(zram|ram|loop)/.test(l));
    expect(profile.disks).toHaveLength(realDisks.length);
    expect(profile.disks.filter((d) => d.system)).toHaveLength(1);
  });
});

describe("freehold detect", () => {
  it("prints a profile that passes the schema with --json", async () => {
    const { stdout } = await run(process.execPath, ["scripts/freehold.mjs", "detect", "--json"]);
    expect(() => HardwareProfileSchema.parse(JSON.parse(stdout))).not.toThrow();
  });

  it("prints a readable summary without --json", async () => {
    const { stdout } = await run(process.execPath, ["scripts/freehold.mjs", "detect"]);
    expect(stdout).toMatch(/^Architecture\s+(amd64|arm64)/m);
    expect(stdout).toMatch(/^Memory\s+\d/m);
  });
});
