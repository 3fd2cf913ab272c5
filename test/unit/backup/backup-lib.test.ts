import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BackupPathSchema,
  BackupRunRecordSchema,
  type BackupTargetInput,
  BackupTargetSchema,
  DrillRecordSchema,
  SnapshotIdSchema,
} from "../../../app/_schemas/backup";
import { classify } from "../../../app/lib/backup/drill";
import { backupAlert, isoWeekIndex, weeklySubset } from "../../../app/lib/backup/policy";
import { formatProgress, parseBackupLine, throttle } from "../../../app/lib/backup/progress";
import {
  backupArgv,
  checkArgv,
  explainRestic,
  forgetArgv,
  knownHostsLine,
  repositoryOf,
  resticRepo,
  restoreArgv,
} from "../../../app/lib/backup/restic";
import { backupSet, nodeBackupSet, REBUILDABLE } from "../../../app/lib/backup/sets";
import { backupCalendar, renderUnits } from "../../../app/lib/backup/units";
import { nodeById, NODES as nodes } from "../../../app/lib/catalog/nodes";

const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const sftp = {
  kind: "sftp",
  user: "backup",
  host: "nas.lan",
  port: 2222,
  path: "freehold",
  knownHostKey: `ssh-ed25519 ${KEY}`,
} as const;
const ok = (t: BackupTargetInput) => BackupTargetSchema.safeParse(t).success;
const files = {
  passwordFile: "/etc/freehold/backup/password",
  cacheDir: "/var/cache/freehold/restic",
  sshKey: "/etc/freehold/backup/id_ed25519",
  knownHosts: "/etc/freehold/backup/known_hosts",
  usbMount: "/mnt/freehold-backup",
};

describe("backup targets reject injection at the schema", () => {
  const NASTY = ["-oProxyCommand=x", "a b", "a;b", "$(reboot)", "`id`", "a\nb", "a|b", "a&b", "..", "a'b"];

  it("USB: a filesystem UUID or a /dev/disk/by-id/ name, nothing else", () => {
    for (const device of [
      "0b0e9a40-2b3c-4c1e-9a53-5b7a4f5f2a10",
      "1234-ABCD",
      "0123456789ABCDEF",
      "/dev/disk/by-id/usb-SanDisk_Cruzer_Blade_4C53-0:0-part1",
      // A QEMU usb-storage stick (the VM tests' backup disk): ':' before the LUN, as udev names it.
      "/dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_freehold-disk2-0:0",
    ])
      expect(ok({ kind: "usb", device }), device).toBe(true);
    for (const device of [
      "/dev/sdb",
      "/dev/disk/by-id/../../sda",
      "/dev/disk/by-id/-x",
      "/dev/disk/by-id/a b",
      "/dev/disk/by-id/usb-x\n",
      "/dev/disk/by-uuid/1234-ABCD",
      "1234-ABCD;reboot",
      ...NASTY,
    ])
      expect(ok({ kind: "usb", device }), JSON.stringify(device)).toBe(false);
  });

  it("SFTP: user, host, path and the pinned host key", () => {
    expect(ok(sftp)).toBe(true);
    expect(ok({ ...sftp, host: "[fd00::2]", path: "/srv/backups/box", port: 22 })).toBe(true);
    expect(ok({ ...sftp, user: "root", host: "192.168.1.10", path: "~/backups" })).toBe(true);
    for (const bad of NASTY) {
      expect(ok({ ...sftp, user: bad }), `user ${JSON.stringify(bad)}`).toBe(false);
      expect(ok({ ...sftp, host: bad }), `host ${JSON.stringify(bad)}`).toBe(false);
      expect(ok({ ...sftp, path: bad }), `path ${JSON.stringify(bad)}`).toBe(false);
    }
    for (const path of ["a/../b", "a/./b", "/..", "-x/y", "a//b", ""])
      expect(ok({ ...sftp, path }), path).toBe(false);
    for (const port of [0, 65536, 1.5]) expect(ok({ ...sftp, port })).toBe(false);
  });

  it("SFTP host keys: one key line, normalised to 'type key'", () => {
    for (const line of [
      `nas.lan ssh-ed25519 ${KEY}`,
      `ssh-ed25519 ${KEY}`,
      `  [nas.lan]:2222 ssh-ed25519 ${KEY}\n`,
    ]) {
      const parsed = BackupTargetSchema.parse({ ...sftp, knownHostKey: line });
      expect(parsed.kind === "sftp" && parsed.knownHostKey).toBe(`ssh-ed25519 ${KEY}`);
    }
    for (const bad of [
      `ssh-ed25519 ${KEY}\nevil.example ssh-ed25519 ${KEY}`,
      `@cert-authority * ssh-ed25519 ${KEY}`,
      `ssh-ed25519 ${KEY} comment`,
      "ssh-ed25519 not!base64",
      `ssh-dss ${KEY}`,
      `nas.lan ssh-ed25519 ${KEY};reboot`,
    ])
      expect(ok({ ...sftp, knownHostKey: bad }), JSON.stringify(bad.slice(0, 40))).toBe(false);
  });

  it("REST and S3: https only, no credentials, query or odd characters in the URL", () => {
    expect(ok({ kind: "rest", url: "https://backup.example.org:8000/box" })).toBe(true);
    expect(ok({ kind: "rest", url: "https://192.168.1.5:8000/" })).toBe(true);
    for (const url of [
      "http://backup.example.org/box",
      "https://user:pw@backup.example.org/box",
      "https://backup.example.org/box?x=1",
      "https://backup.example.org/a/../b",
      "https://backup.example.org/a b",
      "https://backup.example.org/$(id)",
      "-https://x",
      "file:///etc/passwd",
    ])
      expect(ok({ kind: "rest", url }), url).toBe(false);
    const s3 = {
      kind: "s3",
      endpoint: "https://s3.example.com",
      bucket: "my-box",
      accessKeyId: "AKIA123",
    } as const;
    expect(ok(s3)).toBe(true);
    expect(ok({ ...s3, secretAccessKey: "x" } as BackupTargetInput)).toBe(false);
    for (const bucket of ["My_Box", "-box", "a", "my..box", "box;x"])
      expect(ok({ ...s3, bucket })).toBe(false);
    for (const accessKeyId of ["-x", "a b", "a/b", ""]) expect(ok({ ...s3, accessKeyId })).toBe(false);
  });

  it("paths: absolute, plain names, no '..', no leading '-'", () => {
    for (const p of [
      "/srv/freehold",
      "/var/lib/lnd/data/chain/bitcoin/mainnet/channel.backup",
      "/srv/freehold/lost+found",
    ])
      expect(BackupPathSchema.safeParse(p).success, p).toBe(true);
    for (const p of [
      "srv",
      "/",
      "/a/../etc",
      "/a/./b",
      "/-x",
      "/a b",
      "/a\nb",
      "/a*",
      "/$(id)",
      "/a//b",
      "/a/",
    ])
      expect(BackupPathSchema.safeParse(p).success, JSON.stringify(p)).toBe(false);
  });

  it("snapshot ids: lowercase hex, 8 to 64 characters, the same rule in every record", () => {
    const good = ["9b1dca66", "ffee0011".padEnd(64, "0")];
    const bad = ["9b1dca6", "f".repeat(65), "9B1DCA66", "-9b1dca66", "9b1dca66\n", "../x", "latest", ""];
    for (const id of good) expect(SnapshotIdSchema.safeParse(id).success, id).toBe(true);
    for (const id of bad) expect(SnapshotIdSchema.safeParse(id).success, JSON.stringify(id)).toBe(false);
    const at = "2026-03-09T03:30:00.000Z";
    const drill = {
      at,
      ok: true,
      checked: 1,
      identical: 1,
      changedSince: 0,
      deletedSince: 0,
      differences: [],
    };
    for (const id of good) {
      expect(BackupRunRecordSchema.safeParse({ at, ok: true, snapshotId: id }).success, id).toBe(true);
      expect(DrillRecordSchema.safeParse({ ...drill, snapshotId: id }).success, id).toBe(true);
      expect(parseBackupLine(JSON.stringify({ message_type: "summary", snapshot_id: id }))?.kind).toBe(
        "summary",
      );
    }
    for (const id of bad) {
      expect(
        BackupRunRecordSchema.safeParse({ at, ok: true, snapshotId: id }).success,
        JSON.stringify(id),
      ).toBe(false);
      expect(DrillRecordSchema.safeParse({ ...drill, snapshotId: id }).success, JSON.stringify(id)).toBe(
        false,
      );
      expect(parseBackupLine(JSON.stringify({ message_type: "summary", snapshot_id: id }))).toBeNull();
    }
  });
});

describe("restic argv", () => {
  const parsed = BackupTargetSchema.parse(sftp);
  if (parsed.kind !== "sftp") throw new Error("not sftp");
  const target = parsed;
  const repo = resticRepo(target, files);
  const head = [
    "restic",
    "--repo",
    "sftp:backup@nas.lan:freehold",
    "--password-file",
    "/etc/freehold/backup/password",
    "--cache-dir",
    "/var/cache/freehold/restic",
    "-o",
    "sftp.command=ssh -i /etc/freehold/backup/id_ed25519 -o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/freehold/backup/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ServerAliveInterval=60 -p 2222 -l backup -s -- nas.lan sftp",
  ];

  it("puts the repository in --repo, the password in a file, positionals after --", () => {
    expect(backupArgv(repo, { paths: ["/srv/freehold", "/-odd"], excludes: ["/srv/freehold/x"] })).toEqual([
      ...head,
      "backup",
      "--json",
      "--tag",
      "freehold",
      "--exclude-caches",
      "--exclude",
      "/srv/freehold/x",
      "--",
      "/srv/freehold",
      "/-odd",
    ]);
    expect(restoreArgv(repo, "/var/tmp/d", "abcdef12")).toEqual([
      ...head,
      "restore",
      "--tag",
      "freehold",
      "--target",
      "/var/tmp/d",
      "--",
      "abcdef12",
    ]);
    expect(forgetArgv(repo, { daily: 7, weekly: 5, monthly: 12 }).slice(head.length)).toEqual([
      "forget",
      "--json",
      "--tag",
      "freehold",
      "--group-by",
      "host",
      "--keep-daily",
      "7",
      "--keep-weekly",
      "5",
      "--keep-monthly",
      "12",
      "--prune",
    ]);
    expect(checkArgv(repo, "3/5").slice(head.length)).toEqual(["check", "--read-data-subset=3/5"]);
    expect(checkArgv(repo, "all").slice(head.length)).toEqual(["check", "--read-data"]);
  });

  it("names each target's repository and pins the SFTP host key for host and port", () => {
    expect(repositoryOf({ kind: "usb", device: "1234-ABCD" })).toBe("/mnt/freehold-backup/freehold-restic");
    expect(repositoryOf({ kind: "rest", url: "https://b.example:8000/box" })).toBe(
      "rest:https://b.example:8000/box",
    );
    expect(
      repositoryOf({ kind: "s3", endpoint: "https://s3.example.com/", bucket: "b-1", accessKeyId: "A" }),
    ).toBe("s3:https://s3.example.com/b-1");
    expect(knownHostsLine(target)).toBe(`[nas.lan]:2222 ssh-ed25519 ${KEY}\n`);
    expect(knownHostsLine({ ...target, port: 22 })).toBe(`nas.lan ssh-ed25519 ${KEY}\n`);
    const s3 = resticRepo(
      { kind: "s3", endpoint: "https://s3.example.com", bucket: "b-1", accessKeyId: "AK" },
      files,
    );
    expect(s3.env).toEqual({ AWS_ACCESS_KEY_ID: "AK" });
  });

  it("explains restic's failures by exit code and message", () => {
    expect(explainRestic(12, "", "r").kind).toBe("wrong-password");
    expect(explainRestic(1, "Fatal: wrong password or no key found\n", "r").kind).toBe("wrong-password");
    expect(explainRestic(11, "", "r").kind).toBe("locked");
    expect(
      explainRestic(1, "unable to create lock in backend: repository is already locked by PID 7", "r").kind,
    ).toBe("locked");
    expect(explainRestic(1, "subprocess ssh: backup@nas.lan: Permission denied (publickey).", "r").kind).toBe(
      "ssh-key-refused",
    );
    expect(explainRestic(1, "subprocess ssh: Host key verification failed.", "r").kind).toBe(
      "host-key-mismatch",
    );
    expect(
      explainRestic(1, "Fatal: unable to open config file: Stat: dial tcp: lookup x: no such host", "r").kind,
    ).toBe("no-repository");
    expect(explainRestic(1, "Fatal: repository contains errors", "r").kind).toBe("repository-damaged");
    expect(explainRestic(3, "Warning: at least one source file could not be read", "r").kind).toBe(
      "incomplete",
    );
    const other = explainRestic(1, "first\nFatal: something new\n", "r");
    expect(other.kind).toBe("failed");
    expect(other.message).toBe("restic failed (exit 1): Fatal: something new");
  });
});

describe("the schedule's rules", () => {
  it("reads a different fifth each ISO week, every fifth once in any five weeks", () => {
    const monday = new Date("2026-03-02T00:00:00Z");
    const sunday = new Date("2026-03-08T23:59:59Z");
    expect(weeklySubset(monday)).toBe(weeklySubset(sunday));
    expect(isoWeekIndex(new Date("2026-03-09T00:00:00Z"))).toBe(isoWeekIndex(monday) + 1);
    for (const start of ["2026-03-02", "2026-12-21", "2027-12-27"]) {
      const seen = Array.from({ length: 5 }, (_, i) =>
        weeklySubset(new Date(Date.parse(`${start}T12:00:00Z`) + i * 7 * 86_400_000)),
      );
      expect(new Set(seen).size, start).toBe(5);
      for (const s of seen) expect(s).toMatch(/^[1-5]\/5$/);
    }
  });

  it("alerts when no backup succeeded for more than 24 h", () => {
    const now = new Date("2026-03-10T12:00:00Z");
    const run = (at: string, ok: boolean, message?: string) => ({ at, ok, ...(message ? { message } : {}) });
    const recent = run("2026-03-10T03:30:00Z", true);
    expect(backupAlert({ lastSuccess: recent, lastAttempt: recent }, now)).toBeNull();
    const old = run("2026-03-09T11:00:00Z", true);
    const failed = run("2026-03-10T03:30:00Z", false, "the backup target cannot be reached (rest:https://x)");
    expect(backupAlert({ lastSuccess: old, lastAttempt: failed }, now)).toEqual({
      level: "warning",
      message:
        "No successful backup for more than 24 h (the last one was 25 h ago). The last attempt failed: the backup target cannot be reached (rest:https://x)",
    });
    expect(
      backupAlert({ lastSuccess: run("2026-03-05T00:00:00Z", true), lastAttempt: null }, now)?.level,
    ).toBe("critical");
    expect(backupAlert(null, now)?.message).toBe("No backup has succeeded yet.");
    expect(backupAlert(null, now, { configuredAt: new Date("2026-03-10T08:00:00Z") })).toBeNull();
    expect(backupAlert({ lastSuccess: old, lastAttempt: old }, now, { maxAgeMs: 7 * 86_400_000 })).toBeNull();
  });
});

describe("backup sets from the catalog", () => {
  const all = backupSet(nodes);

  it("leaves the chains of bitcoind and monerod out, and keeps Lightning's static channel backup", () => {
    const bitcoin = nodeById("bitcoin-core");
    const monero = nodeById("monerod");
    const lnd = nodeById("lnd");
    if (!bitcoin || !monero || !lnd) throw new Error("catalog changed");
    expect(nodeBackupSet(bitcoin).excludes).toEqual(
      expect.arrayContaining(["/var/lib/bitcoind/blocks", "/var/lib/bitcoind/chainstate"]),
    );
    expect(nodeBackupSet(monero).excludes).toContain("/var/lib/monero/lmdb");
    expect(all.paths).toContain("/var/lib/lnd/data/chain/bitcoin/mainnet/channel.backup");
    expect(all.paths).toContain("/var/lib/bitcoind/wallets");
    for (const chain of [...(REBUILDABLE["bitcoin-core"] ?? []), ...(REBUILDABLE.monerod ?? [])]) {
      expect(all.excludes).toContain(chain);
      // No backed-up path lies inside a chain directory.
      for (const p of all.paths) expect(p === chain || p.startsWith(`${chain}/`), p).toBe(false);
    }
  });

  it("keeps only plain paths (valid for the schema) and makes notes of the rest", () => {
    for (const p of [...all.paths, ...all.excludes])
      expect(BackupPathSchema.safeParse(p).success, p).toBe(true);
    expect(all.paths).not.toContain("/var/lib/postgresql (pg_dump)");
    expect(all.notes.some((n) => n.includes("pg_dump"))).toBe(true);
    expect(all.notes.some((n) => n.includes("seed"))).toBe(true);
    // Paths inside another are covered by it.
    expect(all.paths.filter((p) => p.startsWith("/srv/freehold/"))).toEqual([]);
    expect(backupSet([]).paths).toEqual(["/srv/freehold", "/var/lib/freehold", "/var/lib/freehold-agent"]);
  });
});

describe("restic --json progress", () => {
  it("turns status lines into numbers and the summary into the run's record", () => {
    const status = parseBackupLine(
      '{"message_type":"status","seconds_elapsed":4,"seconds_remaining":150,"percent_done":0.42,"total_files":5000,"files_done":120,"total_bytes":3000000000,"bytes_done":1260000000,"current_files":["/srv/freehold/secret name"]}',
    );
    expect(status?.kind === "status" && formatProgress(status.progress)).toBe(
      "42% · 1.3 GB of 3.0 GB · 120 of 5000 files · about 3 min left",
    );
    expect(JSON.stringify(status)).not.toContain("secret name");
    expect(
      parseBackupLine(
        '{"message_type":"summary","files_new":2,"files_changed":1,"data_added":30003030,"total_bytes_processed":30000006,"total_duration":0.64,"snapshot_id":"9b1dca66"}',
      ),
    ).toEqual({
      kind: "summary",
      summary: {
        snapshotId: "9b1dca66",
        filesNew: 2,
        filesChanged: 1,
        bytesAdded: 30003030,
        bytesProcessed: 30000006,
        durationSeconds: 0.64,
      },
    });
    expect(parseBackupLine("not json")).toBeNull();
    expect(parseBackupLine('{"message_type":"summary","snapshot_id":"../x"}')).toBeNull();
    let t = 0;
    const due = throttle(2000, () => t);
    const first = [due(), due()];
    t = 2500;
    expect([...first, due(), due()]).toEqual([true, false, true, false]);
  });
});

describe("the drill's verdicts", () => {
  const m = (mtimeNs: bigint, size = 10n, kind: "file" | "link" = "file", link?: string) => ({
    kind,
    size,
    mtimeNs,
    ...(link ? { link } : {}),
  });
  it("compares bytes only for files unchanged since the snapshot", () => {
    expect(classify("/a", m(5n), null)).toBe("deleted-since");
    expect(classify("/a", m(5n), m(6n))).toBe("changed-since");
    expect(classify("/a", m(5n), m(5n))).toBe("compare-content");
    expect(classify("/a", m(5n, 9n), m(5n))).toEqual({
      path: "/a",
      reason: "unchanged since the snapshot, but 9 bytes restored instead of 10",
    });
    expect(classify("/l", m(5n, 1n, "link", "x"), m(5n, 1n, "link", "x"))).toBe("identical");
    expect(classify("/l", m(5n, 1n, "link", "x"), m(5n, 1n, "link", "y"))).toMatchObject({ path: "/l" });
  });
});

const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-units-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canVerify = spawnSync("systemd-analyze", ["--version"]).status === 0 && existsSync("/usr/bin/node");

describe("the systemd units", () => {
  const units = renderUnits({ frequency: "daily", time: "03:30" }, { what: "/dev/disk/by-uuid/1234-ABCD" });

  it("run the agent's own entry (no shell), persistent and randomly delayed timers", () => {
    expect(units["freehold-backup.service"]).toContain(
      "ExecStart=/usr/bin/node /opt/freehold/agent.mjs call backup.run\n",
    );
    expect(units["freehold-backup-check.service"]).toContain("call backup.check\n");
    expect(units["freehold-backup-drill.service"]).toContain("call backup.drill\n");
    expect(units["freehold-backup.service"]).toContain("RequiresMountsFor=/mnt/freehold-backup\n");
    for (const t of ["freehold-backup.timer", "freehold-backup-check.timer", "freehold-backup-drill.timer"]) {
      expect(units[t]).toContain("Persistent=true\n");
      expect(units[t]).toMatch(/RandomizedDelaySec=\d+(min|h)\n/);
      expect(units[t]).toContain("WantedBy=timers.target\n");
    }
    expect(units["freehold-backup.timer"]).toContain("OnCalendar=*-*-* 03:30:00\n");
    expect(backupCalendar({ frequency: "weekly", time: "23:05" })).toBe("Sun *-*-* 23:05:00");
    expect(units["mnt-freehold\\x2dbackup.mount"]).toContain("What=/dev/disk/by-uuid/1234-ABCD\n");
    expect(renderUnits({ frequency: "daily", time: "03:30" }, null)["freehold-backup.service"]).not.toContain(
      "RequiresMountsFor",
    );
  });

  // systemd-analyze verify checks that ExecStart's binary exists: /usr/bin/node must be there
  // (it is on the appliance and on Debian build hosts with Debian's nodejs).
  it.skipIf(!canVerify)("pass systemd-analyze verify, and their calendars parse", () => {
    const written = Object.entries(units).map(([name, content]) => {
      const file = path.join(tmp, name);
      writeFileSync(file, content);
      return file;
    });
    const r = spawnSync("systemd-analyze", ["verify", ...written], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const cal = execFileSync(
      "systemd-analyze",
      ["calendar", "*-*-* 03:30:00", "Sun *-*-* 03:30:00", "Sat *-*-* 05:00:00", "*-*-01 05:30:00"],
      { encoding: "utf8" },
    );
    expect(cal.match(/Next elapse:/g)).toHaveLength(4);
    // And verify does catch a broken unit here (so a pass means something).
    const bad = path.join(tmp, "bad.service");
    writeFileSync(
      bad,
      readFileSync(written[0] ?? "", "utf8").replace("/usr/bin/node", "/usr/bin/no-such-node"),
    );
    expect(spawnSync("systemd-analyze", ["verify", bad]).status).not.toBe(0);
  });
});
