import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DROP_IN, effectiveProblems, renderSshd, sshConfigure } from "../../../app/agent/ops/ssh-configure";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const input = { listen: "lan" as const, passwordAuthentication: false, allowUsers: ["alice", "bob"] };
const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-sshd-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canSshd = spawnSync("sshd", ["-V"]).error === undefined;

/** A main config that Includes the drop-in first, as Debian's sshd_config does, then a weaker default. */
function mainConfig(dropIn: string): string {
  const key = path.join(tmp, "host_ed25519");
  if (spawnSync("test", ["-e", key]).status !== 0) {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  }
  const file = path.join(tmp, "50-freehold.conf");
  writeFileSync(file, dropIn);
  const main = path.join(tmp, "sshd_config");
  writeFileSync(main, `Include ${file}\nHostKey ${key}\nPasswordAuthentication yes\nPermitRootLogin yes\n`);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  return main;
}

describe("the sshd drop-in, checked by the real sshd", () => {
  it.skipIf(!canSshd)("passes sshd -t and sshd -T shows the hardened values winning", () => {
    for (const variant of [input, { ...input, passwordAuthentication: true, allowUsers: ["alice"] }]) {
      const main = mainConfig(renderSshd(variant));
      const test = spawnSync("sshd", ["-t", "-f", main], { encoding: "utf8" });
      expect(test.stderr).toBe("");
      expect(test.status).toBe(0);
      const dump = execFileSync("sshd", ["-T", "-f", main], { encoding: "utf8" });
      expect(effectiveProblems(dump, variant)).toEqual([]);
      expect(dump).toMatch(/^kexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,/m);
      expect(dump).toMatch(
        /^ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com$/m,
      );
      expect(dump).toMatch(/^macs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com$/m);
      expect(dump).toMatch(/^logingracetime 30$/m);
    }
  });

  it.skipIf(!canSshd)("sshd -t does reject a broken drop-in (the check is real)", () => {
    const main = mainConfig(`${renderSshd(input)}Bogus yes\n`);
    expect(spawnSync("sshd", ["-t", "-f", main]).status).not.toBe(0);
  });
});

function machine(options: { testFails?: boolean; dumpStale?: boolean } = {}) {
  const state = { active: true, enabled: true, loaded: "" };
  const host = new RecordingHost();
  host.present.add("/run/sshd");
  host
    .on(["systemctl", "is-active", "--", "ssh.service"], () => ({ code: state.active ? 0 : 3 }))
    .on(["systemctl", "is-enabled", "--", "ssh.service"], () => ({ code: state.enabled ? 0 : 1 }))
    .on(["sshd", "-t"], { code: options.testFails ? 255 : 0, stderr: "line 3: Bad configuration option\n" })
    .on(["sshd", "-T"], () => {
      const conf = options.dumpStale ? "" : (host.files.get(DROP_IN)?.content ?? "");
      const lines = conf
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .flatMap((l) => {
          const [key, ...rest] = l.split(" ");
          const k = (key ?? "").toLowerCase();
          return k === "allowusers" ? rest.map((u) => `${k} ${u}`) : [`${k} ${rest.join(" ")}`];
        });
      return { stdout: `${lines.join("\n")}\n` };
    })
    .on(["systemctl", "disable", "--now"], () => {
      state.active = false;
      state.enabled = false;
      return {};
    })
    .on(["systemctl", "enable", "--now"], () => {
      state.active = true;
      state.enabled = true;
      return {};
    });
  return { host, state };
}

describe("ssh.configure", () => {
  it("writes the drop-in, tests it, reloads sshd, verifies with sshd -T; a second run changes nothing", async () => {
    const { host } = machine();
    expect(await sshConfigure.run(input, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toEqual([
      "systemctl is-active -- ssh.service",
      "systemctl is-enabled -- ssh.service",
      `write ${DROP_IN}`,
      "sshd -t",
      "systemctl reload -- ssh.service",
      "sshd -T",
      "systemctl is-active -- ssh.service",
    ]);
    expectPreviewFollowed(sshConfigure.preview(input), host.calls);
    host.reset();
    expect(await sshConfigure.run(input, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(host.lines().some((l) => l.startsWith("write") || l.includes("reload"))).toBe(false);
  });

  it("puts the previous drop-in back when sshd -t fails, and reloads nothing", async () => {
    const { host } = machine({ testFails: true });
    host.file(DROP_IN, "PermitRootLogin no\n");
    await expect(sshConfigure.run(input, {}, host)).rejects.toThrow(/sshd -t rejects/);
    expect(host.files.get(DROP_IN)?.content).toBe("PermitRootLogin no\n");
    expect(host.lines().some((l) => l.includes("reload"))).toBe(false);
  });

  it("removes a new drop-in when sshd -t fails and there was none", async () => {
    const { host } = machine({ testFails: true });
    await expect(sshConfigure.run(input, {}, host)).rejects.toThrow(/sshd -t rejects/);
    expect(host.files.has(DROP_IN)).toBe(false);
  });

  it("turns SSH off (and keeps the hardened drop-in)", async () => {
    const { host, state } = machine();
    const off = { ...input, listen: "off" as const };
    expect(await sshConfigure.run(off, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toContain("systemctl disable --now -- ssh.service");
    expect(state.active).toBe(false);
    expectPreviewFollowed(sshConfigure.preview(off), host.calls);
  });

  it("reports verified: false when sshd -T does not show the values", async () => {
    const { host } = machine({ dumpStale: true });
    const outcome = await sshConfigure.run(input, {}, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain("permitrootlogin");
  });
});
