import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ServiceLogsSchema, SystemStatusSchema } from "../../../app/_schemas/dashboard";
import { AgentOnlyInputSchemas } from "../../../app/_schemas/ops";
import { OpError } from "../../../app/agent/host";
import { BOX_LAYOUT, backupFiles } from "../../../app/agent/ops/backup-common";
import { makeBackupStart, showBackupArgv, startBackupArgv } from "../../../app/agent/ops/backup-start";
import type { Probes } from "../../../app/agent/ops/node-health";
import { nodeStatePath } from "../../../app/agent/ops/node-install";
import { makeNodeRestart } from "../../../app/agent/ops/node-restart";
import { makeServiceLogs } from "../../../app/agent/ops/service-logs";
import { makeSystemStatus } from "../../../app/agent/ops/system-status";
import { NODES } from "../../../app/lib/catalog/nodes";
import { REBOOT_PKGS, REBOOT_REQUIRED, UNATTENDED_LOG } from "../../../app/lib/system/updates";
import { RecordingHost } from "./recording-host";

const fixture = (name: string) => readFileSync(path.join("test/fixtures/dashboard", name), "utf8");

/** Probes that answer as told: ports in `up` accept, HTTP checks on them answer 200. */
function probes(up: number[] = []): Probes & { sleeps: number } {
  const p = {
    sleeps: 0,
    tcp: async (port: number) => up.includes(port),
    http: async (port: number) => (up.includes(port) ? 200 : null),
    sleep: async () => {
      p.sleeps++;
    },
  };
  return p;
}

/** A box with the relay and tor installed; units active unless listed in `down`. */
function box(down: string[] = []) {
  const active = new Set<string>();
  return new RecordingHost()
    .file(nodeStatePath("nostr-relay"), '{"id":"nostr-relay","mode":null}\n')
    .file(nodeStatePath("tor"), '{"id":"tor","mode":null}\n')
    .on(["systemctl", "is-active", "--"], (argv) => ({
      code: argv.slice(3).every((u) => !down.includes(u) || active.has(u)) ? 0 : 3,
    }))
    .on(["systemctl", "restart", "--"], (argv) => {
      for (const u of argv.slice(3)) active.add(u);
      return {};
    })
    .on(["systemctl", "show"], (argv) => ({
      stdout: argv
        .slice(argv.indexOf("--") + 1)
        .map(
          (u) =>
            `Id=${u}\nLoadState=loaded\nActiveState=${down.includes(u) ? "failed" : "active"}\nSubState=${down.includes(u) ? "failed" : "running"}\nUnitFileState=enabled\nActiveEnterTimestamp=@1735800097\n`,
        )
        .join("\n"),
    }));
}

describe("system.status", () => {
  it("reports updates, reboot, firewall, services and nodes, from exactly these commands", async () => {
    const host = box(["freehold-nostr-relay.service"])
      .on(["apt-get", "-s"], { stdout: fixture("apt-get-simulate.txt") })
      .on(["nft", "-j", "list", "ruleset"], { stdout: fixture("nft-list-ruleset.json") })
      .file(UNATTENDED_LOG, fixture("unattended-upgrades.log"))
      .file(REBOOT_REQUIRED, "*** System restart required ***\n")
      .file(REBOOT_PKGS, "linux-image-6.12.9-amd64\n");
    const op = makeSystemStatus({
      nodes: NODES,
      probes: probes([9050]),
      now: () => new Date("2025-01-16T10:00:00Z"),
    });
    const outcome = await op.run({}, {}, host);
    expect(op.readOnly).toBe(true);
    const report = SystemStatusSchema.parse(outcome.report);
    expect(outcome).toMatchObject({
      changed: false,
      verified: true,
      detail: { pendingUpdates: 24, rebootRequired: true, firewall: "policy drop", nodes: 2 },
    });
    expect(report.updates).toMatchObject({
      error: null,
      lastRun: { result: "failed" },
      rebootRequired: true,
      rebootPackages: ["linux-image-6.12.9-amd64"],
    });
    expect(report.firewall?.internet).toHaveLength(3);
    expect(report.services.map((s) => s.unit)).toEqual(
      expect.arrayContaining([
        "freehold-web.service",
        "ssh.service",
        "freehold-nostr-relay.service",
        "tor@default.service",
      ]),
    );
    expect(report.services.find((s) => s.unit === "freehold-nostr-relay.service")).toMatchObject({
      active: "failed",
    });
    expect(report.nodes).toEqual([
      {
        id: "nostr-relay",
        name: "Nostr relay (nostr-rs-relay)",
        mode: null,
        units: ["freehold-nostr-relay.service"],
        problems: ["freehold-nostr-relay.service is not active"],
      },
      { id: "tor", name: "Tor onion services", mode: null, units: ["tor@default.service"], problems: [] },
    ]);
    const commands = host.lines().filter((l) => !l.startsWith("systemctl is-active"));
    expect(commands).toEqual([
      expect.stringMatching(
        /^systemctl show --property=Id,LoadState,ActiveState,SubState,UnitFileState,ActiveEnterTimestamp --timestamp=unix -- freehold-web.service .* freehold-nostr-relay.service tor@default.service$/,
      ),
      "apt-get -s -o Debug::NoLocking=1 dist-upgrade",
      "nft -j list ruleset",
    ]);
    // Read-only: nothing written, nothing started.
    expect(host.calls.some((c) => c.writes)).toBe(false);
  });

  it("a part that cannot be read is reported as such; the rest still comes back", async () => {
    const host = box()
      .on(["apt-get", "-s"], { code: 100, stderr: "E: Could not get lock" })
      .on(["nft", "-j", "list", "ruleset"], { code: 1, stderr: "Operation not permitted" });
    const report = SystemStatusSchema.parse(
      (await makeSystemStatus({ nodes: NODES, probes: probes([8080, 9050]) }).run({}, {}, host)).report,
    );
    expect(report.updates).toMatchObject({
      pending: null,
      error: expect.stringContaining("apt-get"),
      lastRun: null,
      rebootRequired: false,
    });
    expect(report.firewall).toBeNull();
    expect(report.nodes.map((n) => n.problems)).toEqual([[], []]);
  });
});

describe("service.logs", () => {
  const op = makeServiceLogs(NODES);

  it("reads an allowed unit's journal with a fixed argv and parses it", async () => {
    const host = box().on(["journalctl"], { stdout: fixture("journalctl-ssh.jsonl") });
    const outcome = await op.run({ unit: "ssh.service", lines: 50 }, {}, host);
    expect(host.lines()).toEqual([
      "journalctl --unit=ssh.service --lines=50 --output=json --output-fields=MESSAGE,PRIORITY,SYSLOG_IDENTIFIER,_PID --no-pager --quiet",
    ]);
    expect(ServiceLogsSchema.parse(outcome.report).lines).toHaveLength(5);
    const nodeUnit = box().on(["journalctl"], { stdout: "" });
    await op.run({ unit: "tor@default.service" }, {}, nodeUnit);
    expect(nodeUnit.lines()).toEqual([
      expect.stringContaining("journalctl --unit=tor@default.service --lines=100 "),
    ]);
  });

  it("the schema refuses anything that is not a plain unit name", () => {
    for (const unit of [
      "ssh.service; reboot",
      "../x",
      "-x.service",
      "ssh",
      "a b.service",
      "/etc/passwd",
      "ssh.service\n",
    ]) {
      expect(AgentOnlyInputSchemas["service.logs"].safeParse({ unit }).success, unit).toBe(false);
    }
    expect(AgentOnlyInputSchemas["service.logs"].safeParse({ unit: "ssh.service", lines: 501 }).success).toBe(
      false,
    );
    expect(AgentOnlyInputSchemas["service.logs"].safeParse({ unit: "ssh.service", lines: 0 }).success).toBe(
      false,
    );
  });

  it("refuses units outside the allowlist (an uninstalled node's, any other) before journalctl runs", async () => {
    for (const unit of ["freehold-bitcoin-core.service", "cron.service", "systemd-journald.service"]) {
      const host = box();
      await expect(op.run({ unit }, {}, host)).rejects.toThrow(OpError);
      await expect(op.run({ unit }, {}, host)).rejects.toThrow(/not a Freehold service/);
      expect(host.lines().some((l) => l.startsWith("journalctl"))).toBe(false);
    }
  });
});

describe("node.restart", () => {
  const deps = { nodes: NODES, healthAttempts: 3, healthIntervalMs: 1 };

  it("restarts the installed node's units and verifies it answers again", async () => {
    const host = box(["freehold-nostr-relay.service"]);
    const p = probes([8080]);
    const outcome = await makeNodeRestart({ ...deps, probes: p }).run({ id: "nostr-relay" }, {}, host);
    expect(outcome).toEqual({
      changed: true,
      verified: true,
      detail: { node: "nostr-relay", units: "freehold-nostr-relay.service" },
    });
    expect(host.lines()).toEqual([
      "systemctl restart -- freehold-nostr-relay.service",
      "systemctl is-active -- freehold-nostr-relay.service",
    ]);
  });

  it("is not verified while the node does not answer", async () => {
    const p = probes([]);
    const outcome = await makeNodeRestart({ ...deps, probes: p }).run({ id: "tor" }, {}, box());
    expect(outcome).toMatchObject({
      verified: false,
      detail: { problems: "nothing answers on TCP 127.0.0.1:9050" },
    });
    expect(p.sleeps).toBe(2);
  });

  it("bounds systemctl restart, and names the unit and what to look at when it does not finish", async () => {
    let timeoutMs: number | undefined;
    const host = box().on(["systemctl", "restart", "--"], (_argv, options) => {
      timeoutMs = options.timeoutMs;
      return { code: 1 };
    });
    const op = makeNodeRestart({ ...deps, probes: probes([8080]), restartTimeoutMs: 90_000 });
    const error = await op.run({ id: "nostr-relay" }, {}, host).catch((e: unknown) => e);
    expect(timeoutMs).toBe(90_000);
    expect(error).toBeInstanceOf(OpError);
    expect((error as OpError).message).toMatch(
      /^restarting freehold-nostr-relay\.service did not finish: systemctl restart failed \(exit 1\)\. The unit may still be/,
    );
    expect((error as OpError).hint).toContain("systemctl status freehold-nostr-relay.service");
    expect((error as OpError).hint).toContain("journalctl -u freehold-nostr-relay.service");
    // Nothing is probed after a restart that did not finish.
    expect(host.lines()).toEqual(["systemctl restart -- freehold-nostr-relay.service"]);
  });

  it("refuses a node that is not installed, or not in the catalog, before systemctl runs", async () => {
    const host = box();
    const op = makeNodeRestart({ ...deps, probes: probes() });
    await expect(op.run({ id: "bitcoin-core" }, {}, host)).rejects.toThrow(
      "bitcoin-core is not installed on this box",
    );
    await expect(op.run({ id: "nonesuch" }, {}, host)).rejects.toThrow(/no node "nonesuch"/);
    expect(host.calls).toEqual([]);
    expect(AgentOnlyInputSchemas["node.restart"].safeParse({ id: "../tor" }).success).toBe(false);
    expect(AgentOnlyInputSchemas["node.restart"].safeParse({ id: "tor; reboot" }).success).toBe(false);
  });
});

describe("backup.start", () => {
  const config = backupFiles(BOX_LAYOUT).config;

  function backupBox(states: string[], invocations: string[]) {
    let n = 0;
    return new RecordingHost().on(["systemctl", "show"], () => {
      const i = Math.min(n++, states.length - 1);
      return { stdout: `ActiveState=${states[i]}\nInvocationID=${invocations[i]}\n` };
    });
  }

  it("starts freehold-backup.service without waiting for the backup, and sees it running", async () => {
    const host = backupBox(["inactive", "inactive", "activating"], ["aaa", "aaa", "bbb"]).file(config, "{}");
    const outcome = await makeBackupStart(BOX_LAYOUT, { attempts: 5, intervalMs: 1 }).run({}, {}, host);
    expect(outcome).toEqual({
      changed: true,
      verified: true,
      detail: { state: "running", unit: "freehold-backup.service" },
    });
    expect(host.calls.map((c) => c.argv)).toEqual([
      showBackupArgv,
      startBackupArgv,
      showBackupArgv,
      showBackupArgv,
    ]);
    expect(startBackupArgv).toEqual(["systemctl", "start", "--no-block", "--", "freehold-backup.service"]);
  });

  it("does nothing when a backup is already running; refuses when backups are not set up", async () => {
    const running = backupBox(["activating"], ["aaa"]).file(config, "{}");
    expect(await makeBackupStart().run({}, {}, running)).toMatchObject({ changed: false, verified: true });
    expect(running.calls.map((c) => c.argv)).toEqual([showBackupArgv]);
    const bare = backupBox(["inactive"], [""]);
    await expect(makeBackupStart().run({}, {}, bare)).rejects.toThrow("backups are not set up on this box");
    expect(bare.calls.map((c) => c.argv)).toEqual([showBackupArgv]);
  });

  it("not verified when systemd never ran it", async () => {
    const host = backupBox(["inactive"], ["aaa"]).file(config, "{}");
    expect(await makeBackupStart(BOX_LAYOUT, { attempts: 3, intervalMs: 1 }).run({}, {}, host)).toMatchObject(
      {
        verified: false,
      },
    );
  });
});
