import { describe, expect, it } from "vitest";
import type { OpInput } from "../../../app/_schemas/ops";
import { callOp } from "../../../app/agent/cli";
import { BOX_LAYOUT } from "../../../app/agent/ops/backup-common";
import { backupConfigure, makeBackupConfigure } from "../../../app/agent/ops/backup-configure";
import { makeBackupDrill } from "../../../app/agent/ops/backup-drill";
import { makeBackupRun } from "../../../app/agent/ops/backup-run";
import { makeBackupStatus, parseNextElapse } from "../../../app/agent/ops/backup-status";
import { AGENT_OPS } from "../../../app/agent/ops/index";
import { nodeById } from "../../../app/lib/catalog/nodes";
import { buildPlan } from "../../../app/lib/plan/build";
import { commandsOf, displayCommand, secretsOf } from "../../../app/lib/plan/ops";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

/** The backup ops against a recording host: exact argv, secrets never in argv, second run idle. */

const PASSWORD = "JBSW-Y3DP-EHPK-3PXP-JBSW-Y3DP-EHPK-3PXP";
const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const input: OpInput<"backup.configure"> = {
  target: {
    kind: "sftp",
    user: "backup",
    host: "nas.lan",
    port: 22,
    path: "freehold",
    knownHostKey: `ssh-ed25519 ${KEY}`,
  },
  repositoryPassword: { secret: "backup.repositoryPassword" },
  frequency: "daily",
  time: "03:30",
  retention: { daily: 7, weekly: 5, monthly: 12 },
  checkMonthly: true,
  paths: ["/srv/freehold", "/var/lib/freehold"],
  excludes: ["/srv/freehold/lost+found"],
};
const HEAD_ARGV = [
  "restic",
  "--repo",
  "sftp:backup@nas.lan:freehold",
  "--password-file",
  "/etc/freehold/backup/password",
  "--cache-dir",
  "/var/cache/freehold/restic",
  "-o",
  "sftp.command=ssh -i /etc/freehold/backup/id_ed25519 -o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/freehold/backup/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ServerAliveInterval=60 -p 22 -l backup -s -- nas.lan sftp",
];
const HEAD = HEAD_ARGV.join(" ");

/** A box: systemd's enabled set, files' modes for stat, a restic repository that init creates. */
function box(opts: { repo?: "absent" | "ours" | "other" } = {}) {
  const enabled = new Set<string>();
  let repo = opts.repo ?? "absent";
  const host = new RecordingHost({ "backup.repositoryPassword": PASSWORD });
  host
    .on(["systemctl", "is-enabled", "--"], (argv) => ({
      code: argv.slice(3).every((u) => enabled.has(u)) ? 0 : 1,
    }))
    .on(["systemctl", "enable", "--now", "--"], (argv) => {
      for (const u of argv.slice(4)) enabled.add(u);
      return {};
    })
    .on(["stat", "-c", "%a:%u", "--"], (argv) => {
      const f = host.files.get(argv[4] ?? "");
      return f ? { stdout: `${f.mode.toString(8)}:0\n` } : { code: 1 };
    })
    .on(["install", "-d", "-m", "0700", "--"], (argv) => {
      for (const d of argv.slice(5)) host.present.add(d);
      return {};
    })
    .on(["ssh-keygen"], (argv) => {
      const f = argv.at(-1) ?? "";
      host.file(f, "PRIVATE KEY", 0o600).file(`${f}.pub`, "ssh-ed25519 AAAAboxkey freehold-backup\n");
      return {};
    })
    .on(["restic"], (argv) => {
      if (argv.includes("init")) {
        repo = "ours";
        return { stdout: "created restic repository\n" };
      }
      if (argv.includes("cat")) {
        if (repo === "absent")
          return {
            code: 1,
            stderr: "Fatal: unable to open config file\nIs there a repository at the following location?\n",
          };
        const pw = host.files.get("/etc/freehold/backup/password")?.content.trim();
        if (repo === "other" && pw === PASSWORD)
          return { code: 1, stderr: "Fatal: wrong password or no key found\n" };
        return { stdout: '{"version":2}' };
      }
      return {};
    });
  return { host, enabled };
}

const noSecretInArgv = (host: RecordingHost, secret: string) => {
  for (const c of host.calls) for (const a of c.argv) expect(a.includes(secret), a).toBe(false);
};

describe("backup.configure", () => {
  it("on a fresh box: password file 0600, pinned host key, units, restic init, timers; the password in no argv", async () => {
    const { host } = box();
    const out = await backupConfigure.run(input, { "backup.repositoryPassword": PASSWORD }, host);
    expect(out).toMatchObject({ changed: true, verified: true });
    expect(out.detail).toMatchObject({
      repository: "sftp:backup@nas.lan:freehold",
      timers: "freehold-backup.timer freehold-backup-check.timer freehold-backup-drill.timer",
      sshPublicKey: "ssh-ed25519 AAAAboxkey freehold-backup",
    });
    expect(host.lines()).toEqual([
      "install -d -m 0700 -- /etc/freehold/backup /var/lib/freehold-agent/backup /var/cache/freehold/restic",
      "write /etc/freehold/backup/password",
      "ssh-keygen -q -t ed25519 -N  -C freehold-backup -f /etc/freehold/backup/id_ed25519",
      "write /etc/freehold/backup/known_hosts",
      "write /etc/freehold/backup/config.json",
      "write /etc/systemd/system/freehold-backup.service",
      "write /etc/systemd/system/freehold-backup.timer",
      "write /etc/systemd/system/freehold-backup-check.service",
      "write /etc/systemd/system/freehold-backup-check.timer",
      "write /etc/systemd/system/freehold-backup-drill.service",
      "write /etc/systemd/system/freehold-backup-drill.timer",
      "systemctl daemon-reload",
      `${HEAD} cat -- config`,
      `${HEAD} init`,
      "systemctl is-enabled -- freehold-backup.timer",
      "systemctl is-enabled -- freehold-backup-check.timer",
      "systemctl is-enabled -- freehold-backup-drill.timer",
      "systemctl enable --now -- freehold-backup.timer freehold-backup-check.timer freehold-backup-drill.timer",
      `${HEAD} cat -- config`,
      "systemctl is-enabled -- freehold-backup.timer",
      "systemctl is-enabled -- freehold-backup-check.timer",
      "systemctl is-enabled -- freehold-backup-drill.timer",
      "stat -c %a:%u -- /etc/freehold/backup/password",
    ]);
    expect(host.files.get("/etc/freehold/backup/password")).toEqual({
      content: `${PASSWORD}\n`,
      mode: 0o600,
    });
    expect(host.files.get("/etc/freehold/backup/known_hosts")?.content).toBe(`nas.lan ssh-ed25519 ${KEY}\n`);
    noSecretInArgv(host, PASSWORD);
    // The password is written to its file and nowhere else.
    const writes = host.calls.filter((c) => c.writes?.content.includes(PASSWORD)).map((c) => c.writes?.path);
    expect(writes).toEqual(["/etc/freehold/backup/password"]);
    expect(JSON.stringify(host.messages)).not.toContain(PASSWORD);
    expectPreviewFollowed(backupConfigure.preview(input), host.calls);
  });

  it("a second run only observes", async () => {
    const { host } = box();
    await backupConfigure.run(input, { "backup.repositoryPassword": PASSWORD }, host);
    host.reset();
    const again = await backupConfigure.run(input, { "backup.repositoryPassword": PASSWORD }, host);
    expect(again).toMatchObject({ changed: false, verified: true });
    expect(
      host.calls.filter(
        (c) => c.writes || ["init", "enable", "daemon-reload"].some((v) => c.argv.includes(v)),
      ),
    ).toEqual([]);
  });

  it("rewrites a password file whose mode is too open", async () => {
    const { host } = box({ repo: "ours" });
    host.present
      .add("/etc/freehold/backup")
      .add("/var/lib/freehold-agent/backup")
      .add("/var/cache/freehold/restic");
    host.file("/etc/freehold/backup/password", `${PASSWORD}\n`, 0o644);
    const out = await backupConfigure.run(input, { "backup.repositoryPassword": PASSWORD }, host);
    expect(out.detail?.actions).toContain("password file mode");
    expect(host.files.get("/etc/freehold/backup/password")?.mode).toBe(0o600);
    expect(host.lines()).not.toContain(`${HEAD} init`);
  });

  it("never replaces the password of a repository the box's password opens", async () => {
    const { host } = box({ repo: "ours" });
    host.file("/etc/freehold/backup/password", "the old one\n", 0o600);
    await expect(backupConfigure.run(input, { "backup.repositoryPassword": PASSWORD }, host)).rejects.toThrow(
      /was made with another password than the one in your recovery kit/,
    );
    expect(host.files.get("/etc/freehold/backup/password")?.content).toBe("the old one\n");
  });

  it("says what to do when the repository exists under another password", async () => {
    const { host } = box({ repo: "other" });
    await expect(
      backupConfigure.run(input, { "backup.repositoryPassword": PASSWORD }, host),
    ).rejects.toMatchObject({
      message: "the backup password does not open the repository at sftp:backup@nas.lan:freehold",
      hint: expect.stringContaining("recovery kit"),
    });
  });

  it("generates a password (32 random bytes, base64url) when none is passed or present", async () => {
    const { host } = box();
    const out = await makeBackupConfigure().run({ ...input, repositoryPassword: undefined }, {}, host);
    expect(out.detail?.passwordGenerated).toBe(true);
    expect(host.files.get("/etc/freehold/backup/password")?.content).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });

  it("USB: a mount unit by UUID, started before init; the repository on the disk", async () => {
    const { host } = box();
    let mounted = false;
    host
      .on(["findmnt"], () => (mounted ? { stdout: "/dev/sdc1 ext4 1234-ABCD\n" } : { code: 1 }))
      .on(["systemctl", "start", "--", "mnt-freehold\\x2dbackup.mount"], () => {
        mounted = true;
        return {};
      });
    const out = await backupConfigure.run(
      { ...input, target: { kind: "usb", device: "1234-ABCD" }, checkMonthly: false },
      { "backup.repositoryPassword": PASSWORD },
      host,
    );
    expect(out).toMatchObject({
      verified: true,
      detail: { repository: "/mnt/freehold-backup/freehold-restic" },
    });
    expect(host.files.get("/etc/systemd/system/mnt-freehold\\x2dbackup.mount")?.content).toContain(
      "What=/dev/disk/by-uuid/1234-ABCD\n",
    );
    const lines = host.lines();
    expect(lines.indexOf("systemctl start -- mnt-freehold\\x2dbackup.mount")).toBeLessThan(
      lines.findIndex((l) => l.endsWith(" init")),
    );
    expect(lines).toContain("systemctl enable --now -- freehold-backup.timer");
  });

  const DISK = "/dev/disk/by-id/usb-WD_Elements_1234-0:0";
  function usbBox(blkidCode: number) {
    const { host } = box();
    let mounted = false;
    host.present.add(DISK);
    host
      .on(["findmnt"], () => (mounted ? { stdout: "/dev/sdc ext4 u\n" } : { code: 1 }))
      .on(["systemctl", "start", "--", "mnt-freehold\\x2dbackup.mount"], () => {
        mounted = true;
        return {};
      })
      .on(["blkid", "-p"], () => ({ code: blkidCode, stdout: blkidCode === 0 ? "PTTYPE=gpt\n" : "" }));
    return host;
  }
  const usbInput = (formatBlankUsb?: boolean) => ({
    ...input,
    target: { kind: "usb" as const, device: DISK },
    checkMonthly: false,
    ...(formatBlankUsb === undefined ? {} : { formatBlankUsb }),
  });

  it("USB with the owner's consent: a blank disk gets ext4 before it is mounted, as previewed", async () => {
    const host = usbBox(2);
    const out = await backupConfigure.run(usbInput(true), { "backup.repositoryPassword": PASSWORD }, host);
    expect(out).toMatchObject({ verified: true, detail: { actions: expect.stringContaining("formatted") } });
    const lines = host.lines();
    const mkfs = lines.indexOf(`mkfs.ext4 -q -L freehold-backup -- ${DISK}`);
    expect(lines.indexOf(`blkid -p -o export -- ${DISK}`)).toBeLessThan(mkfs);
    expect(mkfs).toBeGreaterThan(-1);
    expect(mkfs).toBeLessThan(lines.indexOf("systemctl start -- mnt-freehold\\x2dbackup.mount"));
    expectPreviewFollowed(backupConfigure.preview(usbInput(true)), host.calls);
  });

  it("USB: a disk with anything on it, or without consent, is never formatted", async () => {
    const used = usbBox(0);
    await backupConfigure.run(usbInput(true), { "backup.repositoryPassword": PASSWORD }, used);
    expect(used.lines().some((l) => l.startsWith("mkfs"))).toBe(false);
    for (const consent of [false, undefined]) {
      const blank = usbBox(2);
      await backupConfigure.run(usbInput(consent), { "backup.repositoryPassword": PASSWORD }, blank);
      expect(blank.lines().some((l) => l.startsWith("mkfs") || l.startsWith("blkid"))).toBe(false);
    }
    // A UUID names a filesystem that exists already: nothing to format.
    const byUuid = usbBox(2);
    await backupConfigure.run(
      { ...usbInput(true), target: { kind: "usb", device: "1234-ABCD" } },
      { "backup.repositoryPassword": PASSWORD },
      byUuid,
    );
    expect(byUuid.lines().some((l) => l.startsWith("mkfs") || l.startsWith("blkid"))).toBe(false);
  });
});

const STATUS = (pct: number) =>
  JSON.stringify({
    message_type: "status",
    percent_done: pct,
    total_files: 10,
    files_done: Math.round(pct * 10),
    total_bytes: 2_000_000,
    bytes_done: pct * 2_000_000,
    seconds_remaining: 30,
    current_files: ["/srv/freehold/private name"],
  });
const SUMMARY = JSON.stringify({
  message_type: "summary",
  files_new: 10,
  files_changed: 0,
  data_added: 2_000_100,
  total_bytes_processed: 2_000_000,
  total_duration: 3.2,
  snapshot_id: "0123abcd",
});

function configured() {
  const { host } = box({ repo: "ours" });
  host
    .file(
      "/etc/freehold/backup/config.json",
      JSON.stringify({
        target: input.target,
        paths: input.paths,
        excludes: input.excludes,
        retention: input.retention,
      }),
      0o600,
    )
    .file("/etc/freehold/backup/password", `${PASSWORD}\n`, 0o600);
  host.present.add("/srv/freehold").add("/var/lib/freehold");
  host.on(["findmnt", "-n", "-o", "SOURCE,FSTYPE,UUID", "--", "/srv/freehold"], {
    stdout: "/dev/mapper/freehold-data ext4 u\n",
  });
  return host;
}

describe("backup.run", () => {
  const at = new Date("2026-03-10T03:30:00Z");

  it("backs up, reports progress as numbers, forgets by the policy, records the success", async () => {
    const host = configured();
    host.on([...HEAD_ARGV, "backup"], { stdout: [STATUS(0.5), STATUS(1), SUMMARY, ""].join("\n") });
    const out = await makeBackupRun(BOX_LAYOUT, () => at).run({}, {}, host);
    expect(out).toMatchObject({
      changed: true,
      verified: true,
      detail: { snapshot: "0123abcd", filesNew: 10 },
    });
    expect(host.lines().filter((l) => l.startsWith("restic"))).toEqual([
      `${HEAD} backup --json --tag freehold --exclude-caches --exclude /srv/freehold/lost+found -- /srv/freehold /var/lib/freehold`,
      `${HEAD} forget --json --tag freehold --group-by host --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune`,
    ]);
    expect(host.messages).toContain("50% · 1.0 MB of 2.0 MB · 5 of 10 files · about 30 s left");
    expect(host.messages.join("\n")).not.toContain("private name");
    const history = JSON.parse(
      host.files.get("/var/lib/freehold-agent/backup/backup.json")?.content ?? "null",
    );
    expect(history.lastSuccess).toMatchObject({ at: at.toISOString(), ok: true, snapshotId: "0123abcd" });
    expect(history.lastAttempt).toEqual(history.lastSuccess);
    noSecretInArgv(host, PASSWORD);
  });

  it("refuses while the data volume is locked, and records the failed attempt (the last success stays)", async () => {
    const host = configured();
    const success = { at: "2026-03-09T03:30:00.000Z", ok: true, snapshotId: "0123abcd" };
    host
      .file(
        "/var/lib/freehold-agent/backup/backup.json",
        JSON.stringify({ lastSuccess: success, lastAttempt: success }),
      )
      .on(["findmnt", "-n", "-o", "SOURCE,FSTYPE,UUID", "--", "/srv/freehold"], { code: 1 });
    await expect(makeBackupRun(BOX_LAYOUT, () => at).run({}, {}, host)).rejects.toThrow(
      /data volume is not mounted/,
    );
    expect(host.lines().some((l) => l.startsWith("restic"))).toBe(false);
    const history = JSON.parse(
      host.files.get("/var/lib/freehold-agent/backup/backup.json")?.content ?? "null",
    );
    expect(history.lastSuccess).toEqual(success);
    expect(history.lastAttempt).toMatchObject({
      ok: false,
      message: expect.stringContaining("locked after a reboot"),
    });
  });
});

describe("backup.status and backup.drill", () => {
  it("reads the records and the timers' next runs", async () => {
    const host = configured();
    const success = { at: "2026-03-09T03:30:00.000Z", ok: true, snapshotId: "0123abcd" };
    host
      .file(
        "/var/lib/freehold-agent/backup/backup.json",
        JSON.stringify({ lastSuccess: success, lastAttempt: success }),
      )
      .file(
        "/var/lib/freehold-agent/backup/check.json",
        JSON.stringify({ at: "2026-03-07T05:00:00.000Z", ok: true, readData: "2/5" }),
      )
      .on(["systemctl", "show", "--property=NextElapseUSecRealtime", "--timestamp=unix", "--"], (argv) => ({
        stdout:
          argv.at(-1) === "freehold-backup.timer"
            ? "NextElapseUSecRealtime=@1773199800\n"
            : "NextElapseUSecRealtime=\n",
      }));
    const out = await makeBackupStatus(BOX_LAYOUT, () => new Date("2026-03-09T12:00:00Z")).run({}, {}, host);
    expect(out.detail).toMatchObject({
      configured: true,
      repository: "sftp:backup@nas.lan:freehold",
      lastSuccessAt: success.at,
      lastCheckOk: true,
      lastCheckReadData: "2/5",
      lastDrillAt: null,
      nextBackup: "2026-03-11T03:30:00.000Z",
      nextCheck: null,
      alert: null,
    });
    expect(host.changes([["systemctl", "show"], ["findmnt"]]).filter((c) => c.writes)).toEqual([]);
    expect(parseNextElapse("NextElapseUSecRealtime=\n")).toBeNull();
  });

  it("the drill restores the latest snapshot into a fresh directory, compares, records, cleans up", async () => {
    const host = configured();
    const latest = "ffee0011".padEnd(64, "0");
    host
      .on([...HEAD_ARGV, "snapshots"], {
        stdout: JSON.stringify([
          { id: "aa".padEnd(64, "1"), time: "2026-03-08T03:30:00Z", paths: ["/srv/freehold"] },
          {
            id: latest,
            short_id: "ffee0011",
            time: "2026-03-09T03:30:00Z",
            paths: ["/srv/freehold", "/var/lib/freehold"],
          },
        ]),
      })
      .on([...HEAD_ARGV, "stats"], { stdout: '{"total_size":1000}' })
      .on(["df"], { stdout: "    Avail\n5000000\n" })
      .on(["mktemp"], { stdout: "/var/tmp/freehold-drill.Ab12Cd34\n" });
    const compared: unknown[] = [];
    const drill = makeBackupDrill(
      BOX_LAYOUT,
      async (dir, paths) => {
        compared.push([dir, paths]);
        return {
          checked: 3,
          identical: 2,
          changedSince: 0,
          deletedSince: 0,
          differences: [
            {
              path: "/srv/freehold/a",
              reason: "unchanged since the snapshot, but the restored bytes differ",
            },
          ],
        };
      },
      () => new Date("2026-03-10T05:30:00Z"),
    );
    const out = await drill.run({}, {}, host);
    expect(out.verified).toBe(false);
    expect(String(out.detail?.message)).toContain(
      '"/srv/freehold/a" unchanged since the snapshot, but the restored bytes differ',
    );
    expect(compared).toEqual([["/var/tmp/freehold-drill.Ab12Cd34", ["/srv/freehold", "/var/lib/freehold"]]]);
    expect(host.lines().slice(-4)).toEqual([
      "mktemp -d -p /var/tmp freehold-drill.XXXXXXXX",
      `${HEAD} restore --tag freehold --target /var/tmp/freehold-drill.Ab12Cd34 -- ${latest}`,
      "write /var/lib/freehold-agent/backup/drill.json",
      "rm -rf --one-file-system -- /var/tmp/freehold-drill.Ab12Cd34",
    ]);
    expect(
      JSON.parse(host.files.get("/var/lib/freehold-agent/backup/drill.json")?.content ?? "{}"),
    ).toMatchObject({
      ok: false,
      snapshotId: latest,
      checked: 3,
    });
  });
});

describe("freehold-agent call", () => {
  const run = async (args: string[], stdin = "") => {
    const out: string[] = [];
    const err: string[] = [];
    const host = configured();
    const code = await callOp(args, {
      ops: AGENT_OPS,
      host: () => host,
      readStdin: async () => stdin,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err };
  };

  it("runs an op with {} when stdin is empty, and prints its outcome", async () => {
    const r = await run(["backup.status"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.at(-1) ?? "{}")).toMatchObject({ op: "backup.status", verified: true });
  });

  it("refuses unknown ops, bad input and ops that need secrets", async () => {
    expect((await run(["backup.nope"])).code).toBe(2);
    expect((await run(["backup.check"], '{"readData":"everything"}')).code).toBe(2);
    const withSecret = await run(["backup.configure"], JSON.stringify(input));
    expect(withSecret.code).toBe(2);
    expect(withSecret.err.join("\n")).toContain("needs secrets");
  });
});

describe("the plan's backup step", () => {
  it("previews the agent's own apply path, the password by name only", () => {
    const lnd = nodeById("lnd");
    const bitcoin = nodeById("bitcoin-core");
    if (!lnd || !bitcoin) throw new Error("catalog changed");
    const { steps, generate } = buildPlan(
      {
        nodes: { nodes: ["lnd"], priceKwh: 0.3 },
        models: { models: [] },
        storage: { disk: "system", encrypt: false, erase: false, diskLabel: "free space", tpmUnlock: false },
        network: { hostname: "homebox", ssh: "lan", exposure: {} },
        backups: {
          target: input.target,
          schedule: { frequency: "daily", time: "03:30" },
          retention: { daily: 7, weekly: 5, monthly: 12 },
          checkMonthly: true,
        },
        updates: { security: "automatic", reboot: "never", rebootTime: "04:00", apps: "manual" },
      },
      {
        owner: { username: "alice", sshPublicKey: null },
        hasUnixPasswordHash: false,
        nodes: [{ node: bitcoin }, { node: lnd }],
        models: [],
      },
    );
    expect(generate).toContain("backup.repositoryPassword");
    const step = steps.find((s) => s.op === "backup.configure");
    if (step?.op !== "backup.configure") throw new Error("no backup step");
    expect(step.input.paths).toContain("/var/lib/lnd/data/chain/bitcoin/mainnet/channel.backup");
    expect(step.input.excludes).toContain("/var/lib/bitcoind/blocks");
    expect(secretsOf(step)).toEqual(["backup.repositoryPassword"]);
    expect(commandsOf(step)).toEqual(backupConfigure.preview(step.input));
    const lines = commandsOf(step).map(displayCommand);
    expect(lines).toContain("write /etc/freehold/backup/password (mode 0600)");
    expect(
      lines.some((l) => l.includes("restic --repo sftp:backup@nas.lan:freehold") && l.endsWith(" init")),
    ).toBe(true);
  });
});
