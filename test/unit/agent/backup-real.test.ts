import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { OpInput } from "../../../app/_schemas/ops";
import type { ExecOptions, ExecResult } from "../../../app/agent/host";
import { makeBackupCheck } from "../../../app/agent/ops/backup-check";
import type { BackupLayout } from "../../../app/agent/ops/backup-common";
import { makeBackupConfigure } from "../../../app/agent/ops/backup-configure";
import { makeBackupDrill } from "../../../app/agent/ops/backup-drill";
import { makeBackupRun } from "../../../app/agent/ops/backup-run";
import { makeBackupStatus } from "../../../app/agent/ops/backup-status";
import { RealHost } from "../../../app/agent/real-host";

/**
 * The backup ops end to end with the real restic, mktemp, df, stat and the real file writes, in a
 * layout rooted in a temp directory. Only systemd is played (no systemd here, and the units must
 * not land on this machine): systemctl answers from a set, and findmnt says the "USB disk" (a temp
 * directory) is mounted.
 */

const hasRestic = spawnSync("restic", ["version"]).status === 0;
const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-backup-ops-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

class BoxHost extends RealHost {
  readonly enabled = new Set<string>();
  readonly progressLines: string[] = [];
  constructor(private readonly usbMount: string) {
    super();
  }
  override run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const ok = (stdout = "", code = 0) => {
      if (!(options.okCodes ?? [0]).includes(code))
        return Promise.reject(new Error(`${argv.join(" ")} failed`));
      return Promise.resolve({ code, stdout, stderr: "" });
    };
    if (argv[0] === "systemctl") {
      const units = argv.slice(argv.indexOf("--") + 1);
      if (argv[1] === "is-enabled") return ok("", units.every((u) => this.enabled.has(u)) ? 0 : 1);
      if (argv[1] === "enable") for (const u of units) this.enabled.add(u);
      return ok();
    }
    if (argv[0] === "findmnt")
      return argv.at(-1) === this.usbMount ? ok("/dev/sdz1 ext4 1234-ABCD\n") : ok("", 1);
    return super.run(argv, options);
  }
  override progress(message: string): void {
    this.progressLines.push(message);
  }
}

describe.skipIf(!hasRestic)("the backup ops with the real restic", () => {
  const root = path.join(tmp, "box");
  const layout: BackupLayout = {
    etcDir: `${root}/etc/freehold/backup`,
    stateDir: `${root}/var/lib/freehold-agent/backup`,
    cacheDir: `${root}/var/cache/freehold/restic`,
    unitDir: `${root}/etc/systemd/system`,
    usbMount: `${root}/mnt/freehold-backup`,
    drillDir: `${root}/var/tmp`,
    ownerUid: process.getuid?.() ?? 0,
    checkDataVolume: false,
  };
  for (const d of [layout.unitDir, layout.usbMount, layout.drillDir]) mkdirSync(d, { recursive: true });
  const src = path.join(tmp, "srv");
  mkdirSync(path.join(src, "node/wallets"), { recursive: true });
  mkdirSync(path.join(src, "node/blocks"), { recursive: true });
  writeFileSync(path.join(src, "node/wallets/wallet.dat"), randomBytes(50_000));
  writeFileSync(path.join(src, "node/blocks/blk00000.dat"), randomBytes(200_000));
  writeFileSync(path.join(src, "notes with spaces.txt"), "hello\n");
  writeFileSync(path.join(src, "big.bin"), randomBytes(12 * 1024 * 1024));

  const PASSWORD = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567";
  const input: OpInput<"backup.configure"> = {
    target: { kind: "usb", device: "1234-ABCD" },
    repositoryPassword: { secret: "backup.repositoryPassword" },
    frequency: "daily",
    time: "03:30",
    retention: { daily: 7, weekly: 5, monthly: 12 },
    checkMonthly: true,
    paths: [src, path.join(tmp, "not-there")],
    excludes: [path.join(src, "node/blocks")],
  };
  const host = new BoxHost(layout.usbMount);
  const now = () => new Date();

  it("configure: creates the repository, a 0600 password file, the units; then changes nothing", async () => {
    const configure = makeBackupConfigure(layout);
    const out = await configure.run(input, { "backup.repositoryPassword": PASSWORD }, host);
    expect(out).toMatchObject({ changed: true, verified: true });
    expect(out.detail?.actions).toContain("restic init");
    const pw = `${layout.etcDir}/password`;
    expect(readFileSync(pw, "utf8")).toBe(`${PASSWORD}\n`);
    expect(statSync(pw).mode & 0o777).toBe(0o600);
    expect(statSync(`${layout.usbMount}/freehold-restic/config`).isFile()).toBe(true);
    expect(readFileSync(`${layout.unitDir}/freehold-backup.timer`, "utf8")).toContain("Persistent=true");
    expect(host.enabled.has("freehold-backup-drill.timer")).toBe(true);
    const again = await configure.run(input, { "backup.repositoryPassword": PASSWORD }, host);
    expect(again).toMatchObject({ changed: false, verified: true });
  }, 120_000);

  it("run: backs up with progress, skips the absent path and the excluded one", async () => {
    const out = await makeBackupRun(layout, now).run({}, {}, host);
    expect(out).toMatchObject({
      changed: true,
      verified: true,
      detail: { skipped: path.join(tmp, "not-there") },
    });
    expect(host.progressLines.some((l) => /^\d+% · .* files/.test(l) || l.startsWith("backing up"))).toBe(
      true,
    );
    const history = JSON.parse(readFileSync(`${layout.stateDir}/backup.json`, "utf8"));
    expect(history.lastSuccess).toMatchObject({ ok: true, filesNew: 3 });
  }, 180_000);

  it("check: reads this week's fifth, records it", async () => {
    const out = await makeBackupCheck(layout, now).run({}, {}, host);
    expect(out.verified).toBe(true);
    expect(JSON.parse(readFileSync(`${layout.stateDir}/check.json`, "utf8"))).toMatchObject({
      ok: true,
      readData: expect.stringMatching(/^[1-5]\/5$/),
    });
  }, 180_000);

  it("drill: restores, finds everything identical, removes its directory", async () => {
    const out = await makeBackupDrill(layout).run({}, {}, host);
    expect(out).toMatchObject({ verified: true, detail: { checked: 3, identical: 3, differences: 0 } });
    expect(execFileSync("ls", ["-A", "--", layout.drillDir], { encoding: "utf8" })).toBe("");
  }, 180_000);

  it("drill: a file changed on the box without a new time is named as a difference", async () => {
    const victim = path.join(src, "notes with spaces.txt");
    const ref = path.join(tmp, "ref");
    writeFileSync(ref, "");
    execFileSync("touch", ["-r", victim, "--", ref]);
    writeFileSync(victim, "HELLO\n");
    execFileSync("touch", ["-r", ref, "--", victim]);
    const out = await makeBackupDrill(layout).run({}, {}, host);
    expect(out.verified).toBe(false);
    expect(out.detail?.message).toContain(
      `${JSON.stringify(victim)} unchanged since the snapshot, but the restored bytes differ`,
    );
    const record = JSON.parse(readFileSync(`${layout.stateDir}/drill.json`, "utf8"));
    expect(record.differences).toEqual([
      { path: victim, reason: "unchanged since the snapshot, but the restored bytes differ" },
    ]);
  }, 180_000);

  it("status: the records, no alert after a fresh success", async () => {
    const out = await makeBackupStatus(layout).run({}, {}, host);
    expect(out.detail).toMatchObject({
      configured: true,
      repository: `${layout.usbMount}/freehold-restic`,
      lastCheckOk: true,
      lastDrillOk: false,
      alert: null,
    });
  });

  it("a wrong password file: the run fails saying what to do, and the failure is recorded", async () => {
    writeFileSync(`${layout.etcDir}/password`, "not it\n", { mode: 0o600 });
    await expect(makeBackupRun(layout, now).run({}, {}, host)).rejects.toMatchObject({
      message: `the backup password does not open the repository at ${layout.usbMount}/freehold-restic`,
      hint: expect.stringContaining("recovery kit"),
    });
    const history = JSON.parse(readFileSync(`${layout.stateDir}/backup.json`, "utf8"));
    expect(history.lastAttempt).toMatchObject({ ok: false });
    expect(history.lastSuccess).toMatchObject({ ok: true });
    // backup.configure with the kit's password puts it back (the repository opens with it).
    const out = await makeBackupConfigure(layout).run(input, { "backup.repositoryPassword": PASSWORD }, host);
    expect(out).toMatchObject({
      verified: true,
      detail: { actions: expect.stringContaining("password replaced") },
    });
  }, 180_000);
});
