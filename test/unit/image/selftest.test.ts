import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  maskUnitCredential,
  parseSelftest,
  selftestCredentials,
  waitForFirstPageSh,
} from "../../../image/vm/selftest";

const report = (body: string) => `noise\nFREEHOLD-SELFTEST-BEGIN\n${body}\nFREEHOLD-SELFTEST-END\n`;

describe("boot self-test report", () => {
  it("is null until the END marker has arrived", () => {
    expect(parseSelftest("FREEHOLD-SELFTEST-BEGIN\nstate=running\n")).toBeNull();
  });

  it("parses values, partitions and the boot timeline in seconds", () => {
    const parsed = parseSelftest(
      report(
        [
          "state=running",
          "failed=a.service,b.service",
          "part=/dev/vda3 freehold\\x20root ext4 2147483648",
          "part=/dev/vda4 freehold-data  1000",
          "code_cache=code cache: 380 modules from the cache, 0 refused by V8, 7 compiled from source",
          "t_userspace=2500000",
          "t_active_freehold-web.service=31250000",
          "t_web_listening=",
          "t_exec_freehold-web.service=0",
          "chain=freehold-web.service @31.250s",
          "chain=freehold-tls.service @28.1s +3.1s",
        ].join("\n"),
      ),
    );
    expect(parsed?.failed).toEqual(["a.service", "b.service"]);
    expect(parsed?.codeCache).toBe(
      "code cache: 380 modules from the cache, 0 refused by V8, 7 compiled from source",
    );
    expect(parsed?.partitions).toEqual([
      { name: "/dev/vda3", label: "freehold root", fstype: "ext4", sizeBytes: 2147483648 },
      { name: "/dev/vda4", label: "freehold-data", fstype: "", sizeBytes: 1000 },
    ]);
    // Empty and zero timestamps (a unit that never started) are left out, not reported as 0 s.
    expect(parsed?.timeline).toEqual({ userspace: 2.5, "active_freehold-web.service": 31.25 });
    expect(parsed?.criticalChain).toEqual([
      "freehold-web.service @31.250s",
      "freehold-tls.service @28.1s +3.1s",
    ]);
  });

  it("delivers the script and unit as base64 SMBIOS credentials", () => {
    const creds = selftestCredentials();
    expect(creds).toHaveLength(3);
    for (const c of creds) expect(c).toMatch(/^io\.systemd\.credential\.binary:[a-z.~_-]+=[A-Za-z0-9+/]+=*$/);
    const script = Buffer.from(creds[0]?.split("=").slice(1).join("=") ?? "", "base64").toString();
    expect(script).toContain("/dev/virtio-ports/org.freehold.selftest");
    expect(script).toContain("t_web_listening=");
    expect(script).toContain("t_web_first_page=");
    expect(script).toContain(waitForFirstPageSh(900));
    expect(script).toContain("code_cache=");
    const mask = Buffer.from(
      maskUnitCredential("freehold-web.service").split("=").slice(1).join("="),
      "base64",
    );
    expect(mask.toString()).toContain("ConditionPathExists=/nonexistent");
  });
});

// The guest's journalctl follows the journal and writes only when a line comes; this stand-in does
// the same (it prints what it was given, then sleeps), so the wait is checked with real bash and
// processes. The VM boot tests run it against the guest's own journal.
describe("the self-test's wait for the web app's first page", () => {
  async function wait(lines: string[], seconds: number) {
    const dir = mkdtempSync(path.join(tmpdir(), "freehold-selftest-wait-"));
    const pidFile = path.join(dir, "journalctl.pid");
    const stub = path.join(dir, "journalctl");
    const printed = lines.map((l) => `echo '${l}'; sleep 0.2`).join("; ");
    writeFileSync(stub, `#!/bin/bash\necho $$ > ${pidFile}\n${printed}\nexec sleep 60\n`);
    chmodSync(stub, 0o755);
    const started = Date.now();
    const child = spawn("bash", ["-c", `${waitForFirstPageSh(seconds)}\necho waited`], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const ms = Date.now() - started;
    const pid = Number(readFileSync(pidFile, "utf8"));
    // The signal reaches it a moment after bash exits; a killed one may linger as a zombie.
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 30 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    const followerLeft = alive();
    if (followerLeft) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    return { code, out, ms, followerLeft };
  }

  it("returns once the line came, and stops the journalctl it started", async () => {
    const r = await wait(
      [
        "freehold-web: appliance mode on https://[::]:443",
        "freehold-web: first page answered (GET /setup 200), 9.1 s after listening",
      ],
      30,
    );
    expect(r.out).toBe("waited\n");
    expect(r.ms).toBeLessThan(10_000);
    expect(r.followerLeft).toBe(false);
  }, 20_000);

  it("gives up after its timeout when the line never comes", async () => {
    const r = await wait(["freehold-web: appliance mode on https://[::]:443"], 2);
    expect(r.out).toBe("waited\n");
    expect(r.ms).toBeGreaterThanOrEqual(1900);
    expect(r.ms).toBeLessThan(15_000);
    expect(r.followerLeft).toBe(false);
  }, 30_000);
});
