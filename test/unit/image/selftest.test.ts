import { describe, expect, it } from "vitest";
import { maskUnitCredential, parseSelftest, selftestCredentials } from "../../../image/vm/selftest";

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
    expect(script).toContain("code_cache=");
    const mask = Buffer.from(
      maskUnitCredential("freehold-web.service").split("=").slice(1).join("="),
      "base64",
    );
    expect(mask.toString()).toContain("ConditionPathExists=/nonexistent");
  });
});
