import { describe, expect, it } from "vitest";
import { parseLynisReport, sshAuditFlags } from "../../vm/security-audit";

describe("the VM security audits' parsers", () => {
  it("reads the hardening index, the test count, warnings and suggestions from a Lynis report", () => {
    const report = [
      "report_version_major=1",
      "lynis_tests_done=243",
      "hardening_index=83",
      "warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|",
      "suggestion[]=BOOT-5122|Set a password on GRUB boot loader|-|-|",
      "suggestion[]=FILE-6310|Place /home on a separate partition|-|-|",
    ].join("\n");
    expect(parseLynisReport(report)).toEqual({
      hardeningIndex: 83,
      testsDone: 243,
      warnings: ["FIRE-4512: iptables module(s) loaded, but no rules active"],
      suggestions: [
        "BOOT-5122: Set a password on GRUB boot loader",
        "FILE-6310: Place /home on a separate partition",
      ],
    });
  });

  it("refuses a Lynis report without a hardening index (an aborted run)", () => {
    expect(() => parseLynisReport("lynis_tests_done=12\n")).toThrow(/hardening_index/);
  });

  it("lists every fail and warn note, CVE and recommendation of ssh-audit's JSON, and nothing for a clean one", () => {
    const clean = {
      kex: [{ algorithm: "curve25519-sha256", notes: { info: ["available since OpenSSH 7.4"] } }],
      key: [{ algorithm: "ssh-ed25519", notes: { info: [] } }],
      cves: [],
      recommendations: {},
    };
    expect(sshAuditFlags(clean)).toEqual([]);
    const flagged = sshAuditFlags({
      ...clean,
      key: [{ algorithm: "ecdsa-sha2-nistp256", notes: { fail: ["NSA curve"], warn: ["weak RNG"] } }],
      mac: [{ algorithm: "umac-64-etm@openssh.com", notes: { warn: ["small tag"] } }],
      cves: [{ name: "CVE-2023-48795" }],
      recommendations: { critical: { del: { key: [{ name: "ecdsa-sha2-nistp256" }] } } },
    });
    expect(flagged).toEqual([
      "key ecdsa-sha2-nistp256: fail NSA curve",
      "key ecdsa-sha2-nistp256: warn weak RNG",
      "mac umac-64-etm@openssh.com: warn small tag",
      "CVE CVE-2023-48795",
      expect.stringMatching(/^recommendations /),
    ]);
  });
});
