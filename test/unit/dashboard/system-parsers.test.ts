import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderRuleset } from "../../../app/agent/ops/firewall-ruleset";
import { describePort, plannedFirewall, summarizeRuleset } from "../../../app/lib/system/firewall";
import { cleanMessage, parseJournalJson } from "../../../app/lib/system/journal";
import { parseShowBlocks, parseUnitStates } from "../../../app/lib/system/units";
import { parseAptSimulate, parseRebootPkgs, parseUnattendedLog } from "../../../app/lib/system/updates";

const fixture = (name: string) => readFileSync(path.join("test/fixtures/dashboard", name), "utf8");

describe("pending updates from apt-get -s dist-upgrade", () => {
  // Real output of `apt-get -s -o Debug::NoLocking=1 dist-upgrade` on a Debian 12 host (trimmed).
  const updates = parseAptSimulate(fixture("apt-get-simulate.txt"));

  it("reads every Inst line: name, versions, and whether Debian-Security carries it", () => {
    expect(updates).toHaveLength(24);
    expect(updates[0]).toEqual({
      name: "base-files",
      from: "12.4+deb12u11",
      to: "12.4+deb12u15",
      security: false,
    });
    expect(updates.find((u) => u.name === "libgcrypt20")).toEqual({
      name: "libgcrypt20",
      from: "1.10.1-3",
      to: "1.10.1-3+deb12u1",
      security: true,
    });
    expect(updates.filter((u) => u.security)).toHaveLength(13);
    // Conf lines and the summary are not updates.
    expect(updates.every((u) => !u.name.startsWith("Conf"))).toBe(true);
  });

  it("reads a new package (no old version) and an empty simulation", () => {
    expect(
      parseAptSimulate(
        "Inst linux-image-6.12.9-amd64 (6.12.9-1 Debian-Security:13/stable-security [amd64])\n" +
          "Inst linux-image-amd64 [6.12.6-1] (6.12.9-1 Debian-Security:13/stable-security [amd64]) []\n",
      ),
    ).toEqual([
      { name: "linux-image-6.12.9-amd64", from: null, to: "6.12.9-1", security: true },
      { name: "linux-image-amd64", from: "6.12.6-1", to: "6.12.9-1", security: true },
    ]);
    expect(
      parseAptSimulate(
        "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n",
      ),
    ).toEqual([]);
  });
});

describe("the unattended-upgrades log", () => {
  it("finds the last run, its verdict and packages, and the last run that installed something", () => {
    const { lastRun, lastAppliedAt } = parseUnattendedLog(fixture("unattended-upgrades.log"));
    expect(lastRun).toEqual({
      at: new Date(2025, 0, 15, 6, 30, 2, 551).toISOString(),
      result: "failed",
      packages: ["linux-image-amd64", "linux-image-6.12.9-amd64"],
    });
    expect(lastAppliedAt).toBe(new Date(2025, 0, 13, 6, 41, 41, 310).toISOString());
  });

  it("tells nothing-to-do and a run still going apart", () => {
    const lines = fixture("unattended-upgrades.log").split("\n");
    expect(parseUnattendedLog(lines.slice(0, 12).join("\n")).lastRun?.result).toBe("nothing");
    expect(parseUnattendedLog(lines.slice(0, 16).join("\n")).lastRun).toMatchObject({ result: "incomplete" });
    expect(parseUnattendedLog("")).toEqual({ lastRun: null, lastAppliedAt: null });
  });

  it("lists the packages that asked for a reboot once each", () => {
    expect(
      parseRebootPkgs("linux-image-6.12.9-amd64\nlibc6\nlinux-image-6.12.9-amd64\n; rm -rf /\n"),
    ).toEqual(["linux-image-6.12.9-amd64", "libc6"]);
    expect(parseRebootPkgs(null)).toEqual([]);
  });
});

describe("the firewall summary from nft -j list ruleset", () => {
  // Real libnftables JSON: test/fixtures/dashboard/nft-ruleset.nft (renderRuleset's output) loaded
  // with `unshare -rn sh -c 'nft -f nft-ruleset.nft && nft -j list ruleset'` (nftables 1.0.6).
  it("reads the policy and which ports are open to the LAN and to anyone", () => {
    const summary = summarizeRuleset(fixture("nft-list-ruleset.json"));
    expect(summary.present).toBe(true);
    expect(summary.inputPolicy).toBe("drop");
    expect(summary.lan.map(describePort)).toEqual([
      "22/tcp",
      "53/udp",
      "80/tcp",
      "443/tcp",
      "5353/udp",
      "8333/tcp",
    ]);
    expect(summary.internet.map(describePort)).toEqual(["7777/tcp", "9735/tcp", "51820/udp"]);
  });

  it("the fixture is what renderRuleset writes today", () => {
    const rendered = renderRuleset(
      {
        lan: [
          { port: 22, protocol: "tcp" },
          { port: 8333, protocol: "tcp" },
          { port: 53, protocol: "udp" },
        ],
        internet: [
          { port: 7777, protocol: "tcp" },
          { port: 9735, protocol: "tcp" },
          { port: 51820, protocol: "udp" },
        ],
      },
      ["eth0"],
    );
    expect(rendered).toBe(fixture("nft-ruleset.nft"));
  });

  const canNetns = spawnSync("unshare", ["-rn", "nft", "list", "ruleset"]).status === 0;
  it.skipIf(!canNetns)("reads what the real nft lists in a private network namespace", () => {
    const rules = renderRuleset({
      lan: [{ port: 3000, protocol: "tcp" }],
      internet: [{ port: 4000, protocol: "udp" }],
    });
    const json = execFileSync("unshare", ["-rn", "sh", "-c", "nft -f - && nft -j list ruleset"], {
      input: rules,
      encoding: "utf8",
    });
    const summary = summarizeRuleset(json);
    expect(summary).toMatchObject({ present: true, inputPolicy: "drop" });
    expect(summary.lan.map(describePort)).toEqual(["80/tcp", "443/tcp", "3000/tcp", "5353/udp"]);
    expect(summary.internet.map(describePort)).toEqual(["4000/udp"]);
  });

  it("the preview's planned firewall reads as the real ruleset does", () => {
    const input = {
      lan: [
        { port: 22, protocol: "tcp" as const },
        { port: 8333, protocol: "tcp" as const },
        { port: 53, protocol: "udp" as const },
      ],
      internet: [
        { port: 7777, protocol: "tcp" as const },
        { port: 9735, protocol: "tcp" as const },
        { port: 51820, protocol: "udp" as const },
      ],
    };
    expect(plannedFirewall(input)).toEqual(summarizeRuleset(fixture("nft-list-ruleset.json")));
  });

  it("handles ranges, no Freehold table, and an accepting policy", () => {
    const json = JSON.stringify({
      nftables: [
        { chain: { family: "inet", table: "filter", name: "input", hook: "input", policy: "accept" } },
        {
          rule: {
            family: "inet",
            table: "filter",
            chain: "input",
            expr: [
              {
                match: {
                  op: "==",
                  left: { payload: { protocol: "tcp", field: "dport" } },
                  right: { set: [{ range: [8000, 8010] }, 25] },
                },
              },
              { accept: null },
            ],
          },
        },
      ],
    });
    expect(summarizeRuleset(json)).toEqual({
      present: true,
      inputPolicy: "accept",
      lan: [],
      internet: [
        { protocol: "tcp", from: 25, to: 25 },
        { protocol: "tcp", from: 8000, to: 8010 },
      ],
    });
    expect(summarizeRuleset('{"nftables":[{"metainfo":{"version":"1.1.3"}}]}')).toEqual({
      present: false,
      inputPolicy: null,
      lan: [],
      internet: [],
    });
    expect(() => summarizeRuleset("Error: not json")).toThrow(/not JSON/);
  });
});

describe("journal lines from journalctl -o json", () => {
  // Real journalctl output: entries written with systemd-journal-remote, read back with
  // `journalctl --file=… -u ssh.service -n 5 -o json --output-fields=MESSAGE,PRIORITY,SYSLOG_IDENTIFIER,_PID`.
  it("reads time, priority, identifier and message; byte-array messages are decoded and cleaned", () => {
    const lines = parseJournalJson(fixture("journalctl-ssh.jsonl"), 100);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toEqual({
      time: "2025-01-02T06:41:37.000Z",
      priority: 6,
      identifier: "sshd",
      message: "Server listening on 0.0.0.0 port 22.",
    });
    expect(lines[2]).toMatchObject({
      priority: 3,
      message: expect.stringContaining("kex_exchange_identification"),
    });
    // [98,97,100,…]: invalid UTF-8 and a colour sequence
    expect(lines[3]?.message).toBe("bad bytes \uFFFD\uFFFD and a colour");
    expect(lines[4]).toMatchObject({ identifier: "systemd", priority: 5 });
  });

  it("keeps the newest lines up to the limit and skips what is not JSON", () => {
    const text = `${fixture("journalctl-ssh.jsonl")}not json\n`;
    expect(parseJournalJson(text, 2).map((l) => l.priority)).toEqual([4, 5]);
    expect(parseJournalJson('{"MESSAGE":null,"PRIORITY":"9"}', 5)).toEqual([
      {
        time: null,
        priority: null,
        identifier: null,
        message: "(message too large or unreadable; see journalctl)",
      },
    ]);
    expect(cleanMessage("x".repeat(3000))).toHaveLength(2001);
  });
});

describe("unit states from systemctl show", () => {
  const text = [
    "Id=freehold-web.service",
    "LoadState=loaded",
    "ActiveState=active",
    "SubState=running",
    "UnitFileState=enabled",
    "ActiveEnterTimestamp=@1735800097",
    "",
    "Id=ssh.service",
    "LoadState=loaded",
    "ActiveState=inactive",
    "SubState=dead",
    "UnitFileState=disabled",
    "ActiveEnterTimestamp=",
    "",
    "Id=freehold-nope.service",
    "LoadState=not-found",
    "ActiveState=inactive",
    "SubState=dead",
    "UnitFileState=",
    "ActiveEnterTimestamp=",
    "",
  ].join("\n");

  it("one state per asked unit, in the order asked", () => {
    expect(parseShowBlocks(text)).toHaveLength(3);
    expect(parseUnitStates(text, ["ssh.service", "freehold-web.service", "freehold-nope.service"])).toEqual([
      {
        unit: "ssh.service",
        load: "loaded",
        active: "inactive",
        sub: "dead",
        enabled: "disabled",
        since: null,
      },
      {
        unit: "freehold-web.service",
        load: "loaded",
        active: "active",
        sub: "running",
        enabled: "enabled",
        since: "2025-01-02T06:41:37.000Z",
      },
      {
        unit: "freehold-nope.service",
        load: "not-found",
        active: "inactive",
        sub: "dead",
        enabled: null,
        since: null,
      },
    ]);
  });
});
