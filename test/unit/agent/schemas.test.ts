import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AgentOnlyInputSchemas, OpInputSchemas } from "../../../app/_schemas/ops";

/** The injection corpus at the schema boundary: nothing here may reach an argv. */

const key = (() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-key-"));
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "alice@laptop",
    "-f",
    path.join(dir, "k"),
  ]);
  const pub = readFileSync(path.join(dir, "k.pub"), "utf8").trim();
  rmSync(dir, { recursive: true, force: true });
  return pub;
})();

const user = (over: Record<string, unknown>) =>
  OpInputSchemas["user.ensure"].safeParse({ username: "alice", sshAuthorizedKeys: [], sudo: true, ...over })
    .success;
const host = (hostname: unknown) => OpInputSchemas["hostname.set"].safeParse({ hostname }).success;
const volume = (device: unknown, over: Record<string, unknown> = {}) =>
  OpInputSchemas["volume.encrypt"].safeParse({
    device,
    erase: false,
    encrypt: false,
    mountpoint: "/srv/freehold",
    ...over,
  }).success;
const firewall = (port: unknown) =>
  OpInputSchemas["firewall.apply"].safeParse({ lan: [{ port, protocol: "tcp" }], internet: [] }).success;
const ssh = (allowUsers: unknown) =>
  OpInputSchemas["ssh.configure"].safeParse({ listen: "lan", passwordAuthentication: false, allowUsers })
    .success;

describe("op input schemas reject injection", () => {
  it("host names", () => {
    for (const bad of [
      "-oProxyCommand=x",
      "$(reboot)",
      "a;b",
      "a b",
      "a".repeat(64),
      "..",
      "",
      "a.b",
      "-a",
      "a-",
      "a\nb",
    ]) {
      expect(host(bad), JSON.stringify(bad)).toBe(false);
    }
    for (const good of ["homebox", "box-2", "a".repeat(63), "x"]) expect(host(good), good).toBe(true);
  });

  it("user names, also in AllowUsers", () => {
    for (const bad of [
      "root",
      "daemon",
      "freehold",
      "-x",
      "a;b",
      "Alice",
      "a".repeat(32),
      "a",
      "a b",
      "$(id)",
      "sshd",
    ]) {
      expect(user({ username: bad }), bad).toBe(false);
      expect(ssh([bad]), bad).toBe(false);
    }
    expect(user({ username: "alice" })).toBe(true);
    expect(user({ username: "a".repeat(31) })).toBe(true);
    expect(ssh([])).toBe(false);
    expect(ssh(["alice", "bob"])).toBe(true);
  });

  it("device paths", () => {
    for (const bad of [
      "/dev/../etc/shadow",
      "/dev/disk/../../etc/shadow",
      "/dev/./sda",
      "-/dev/sda",
      "/dev/-sda",
      "/dev/sd a",
      "/dev/",
      "/dev//sda",
      "dev/sda",
      "/etc/passwd",
      "/dev/sda\n",
      "/dev/sda;reboot",
      "/dev/$(reboot)",
    ]) {
      expect(volume(bad), JSON.stringify(bad)).toBe(false);
    }
    for (const good of [
      "system",
      "/dev/sdb",
      "/dev/nvme0n1",
      "/dev/mmcblk1",
      "/dev/disk/by-id/usb-SanDisk_Cruzer-0:0",
    ]) {
      expect(volume(good), good).toBe(true);
    }
    expect(volume("/dev/sdb", { mountpoint: "/" })).toBe(false);
  });

  it("ports", () => {
    for (const bad of [0, 65536, -1, 1.5, "22", null]) expect(firewall(bad), String(bad)).toBe(false);
    for (const good of [1, 22, 65535]) expect(firewall(good)).toBe(true);
    expect(
      OpInputSchemas["firewall.apply"].safeParse({ lan: [{ port: 22, protocol: "icmp" }], internet: [] })
        .success,
    ).toBe(false);
  });

  it("SSH keys: one key per line, no options, no second key smuggled in", () => {
    expect(user({ sshAuthorizedKeys: [key] })).toBe(true);
    for (const bad of [
      `${key}\n${key}`,
      `${key}\rssh-ed25519 AAAA`,
      `command="reboot" ${key}`,
      "ssh-ed25519 not-base64!",
      "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
      "",
    ]) {
      expect(user({ sshAuthorizedKeys: [bad] }), JSON.stringify(bad.slice(0, 40))).toBe(false);
    }
  });

  it("secrets only as references, and strict objects everywhere", () => {
    expect(user({ passwordHash: "$y$j9T$inline" })).toBe(false);
    expect(user({ passwordHash: { secret: "owner.unixPasswordHash" } })).toBe(true);
    expect(user({ passwordHash: { secret: "root.password" } })).toBe(false);
    expect(user({ shell: "/bin/sh" })).toBe(false);
    expect(OpInputSchemas["system.harden"].safeParse({}).success).toBe(true);
    expect(OpInputSchemas["system.harden"].safeParse({ sysctl: { "kernel.x": "1" } }).success).toBe(false);
    const minimal: Record<string, object> = {
      "service.logs": { unit: "ssh.service" },
      "node.restart": { id: "tor" },
    };
    for (const [name, schema] of Object.entries(AgentOnlyInputSchemas)) {
      const valid = minimal[name] ?? {};
      expect(schema.safeParse(valid).success, name).toBe(true);
      expect(schema.safeParse({ ...valid, device: "/dev/sda" }).success, name).toBe(false);
    }
  });
});
