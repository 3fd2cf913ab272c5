import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { OpInput } from "../../../app/_schemas/ops";
import {
  CODENAME,
  configProblems,
  PERIODIC,
  renderPeriodic,
  renderUnattended,
  UNATTENDED,
  updatesConfigure,
} from "../../../app/agent/ops/updates-configure";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const input: OpInput<"updates.configure"> = {
  security: "automatic",
  reboot: "window",
  rebootTime: "04:00",
  apps: "automatic",
};
const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-apt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canApt = spawnSync("apt-config", ["--version"]).status === 0;

/** The real apt-config reading both files after the host's own configuration. */
function aptDump(i: typeof input, debianDefault = ""): string {
  const files = [
    ["50unattended-upgrades", debianDefault],
    ["20auto-upgrades", renderPeriodic(i)],
    ["52freehold-unattended-upgrades", renderUnattended(i)],
  ].map(([name, content]) => {
    const file = path.join(tmp, name ?? "");
    writeFileSync(file, content ?? "");
    return file;
  });
  return execFileSync("apt-config", [...files.flatMap((f) => ["-c", f]), "dump"], { encoding: "utf8" });
}

describe("the apt configuration, read by the real apt-config", () => {
  it.skipIf(!canApt)("shows every value, for both choices, and replaces Debian's origin list", () => {
    const debian = `Unattended-Upgrade::Origins-Pattern {\n\t"origin=Debian,codename=${CODENAME},label=Debian";\n};\n`;
    for (const variant of [input, { ...input, security: "notify" as const, reboot: "never" as const }]) {
      const dump = aptDump(variant, debian);
      expect(configProblems(dump, variant)).toEqual([]);
      expect(dump).not.toContain('label=Debian";');
    }
    const dump = aptDump({ ...input, security: "notify", reboot: "never" });
    expect(dump).toContain('APT::Periodic::Unattended-Upgrade "0";');
    expect(dump).toContain('Unattended-Upgrade::Automatic-Reboot "false";');
    expect(dump).toContain(
      `Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${CODENAME}-updates";`,
    );
  });

  it.skipIf(!canApt)("configProblems notices a value that apt does not show", () => {
    expect(configProblems(aptDump(input), { ...input, rebootTime: "05:00" })).toEqual([
      "Unattended-Upgrade::Automatic-Reboot-Time",
    ]);
  });
});

function machine() {
  const enabled = new Set<string>(["apt-daily.timer", "apt-daily-upgrade.timer"]);
  const host = new RecordingHost()
    .on(["systemctl", "is-enabled", "--"], (argv) => ({
      code: argv.slice(3).every((u) => enabled.has(u)) ? 0 : 1,
    }))
    .on(["systemctl", "enable", "--now", "--"], (argv) => {
      for (const u of argv.slice(4)) enabled.add(u);
      return {};
    })
    .on(["systemctl", "disable", "--now", "--"], (argv) => {
      for (const u of argv.slice(4)) enabled.delete(u);
      return {};
    })
    // apt-config dump: the real apt-config reading what the op wrote.
    .on(["apt-config", "dump"], () => {
      const files = [PERIODIC, UNATTENDED].map((f, n) => {
        const file = path.join(tmp, `machine-${n}`);
        writeFileSync(file, host.files.get(f)?.content ?? "");
        return file;
      });
      return {
        stdout: execFileSync("apt-config", [...files.flatMap((f) => ["-c", f]), "dump"], {
          encoding: "utf8",
        }),
      };
    });
  return { host, enabled };
}

describe.skipIf(!canApt)("updates.configure", () => {
  it("writes both files and turns app updates on; a second run changes nothing", async () => {
    const { host } = machine();
    expect(await updatesConfigure.run(input, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toEqual([
      `write ${UNATTENDED}`,
      `write ${PERIODIC}`,
      "systemctl is-enabled -- apt-daily.timer apt-daily-upgrade.timer",
      "systemctl is-enabled -- podman-auto-update.timer",
      "systemctl enable --now -- podman-auto-update.timer",
      "apt-config dump",
      "systemctl is-enabled -- apt-daily.timer apt-daily-upgrade.timer",
      "systemctl is-enabled -- podman-auto-update.timer",
    ]);
    expectPreviewFollowed(updatesConfigure.preview(input), host.calls);
    host.reset();
    expect(await updatesConfigure.run(input, {}, host)).toMatchObject({ changed: false, verified: true });
  });

  it("enables the apt timers when they are off and turns app updates off when manual", async () => {
    const { host, enabled } = machine();
    enabled.clear();
    enabled.add("podman-auto-update.timer");
    const manual = { ...input, apps: "manual" as const };
    expect(await updatesConfigure.run(manual, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toContain("systemctl enable --now -- apt-daily.timer apt-daily-upgrade.timer");
    expect(host.lines()).toContain("systemctl disable --now -- podman-auto-update.timer");
  });

  it("reports verified: false when apt shows other values (a later file overrides ours)", async () => {
    const { host } = machine();
    host.on(["apt-config", "dump"], { stdout: 'APT::Periodic::Unattended-Upgrade "0";\n' });
    const outcome = await updatesConfigure.run(input, {}, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain("APT::Periodic::Unattended-Upgrade");
  });
});
