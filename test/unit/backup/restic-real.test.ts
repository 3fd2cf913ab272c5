import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RealHost } from "../../../app/agent/real-host";
import { compareRestore, describeDrill, drillPassed } from "../../../app/lib/backup/drill";
import { DEFAULT_RETENTION } from "../../../app/lib/backup/policy";
import {
  backupArgv,
  catConfigArgv,
  checkArgv,
  explainRestic,
  forgetArgv,
  initArgv,
  parseSnapshots,
  type ResticRepo,
  resticHead,
  restoreArgv,
  snapshotsArgv,
} from "../../../app/lib/backup/restic";

/**
 * The real restic (0.14 on the build host, 0.18 on the appliance) against temporary repositories,
 * driven only by our argv builders through the agent's RealHost: what the box runs.
 */

const hasRestic = spawnSync("restic", ["version"]).status === 0;
const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-restic-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const host = new RealHost();
const ANY = Array.from({ length: 256 }, (_, i) => i);

function makeRepo(name: string, password = randomBytes(32).toString("base64url")): ResticRepo {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const passwordFile = path.join(dir, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  return {
    repository: path.join(dir, "repo"),
    passwordFile,
    cacheDir: path.join(dir, "cache"),
    options: [],
    env: {},
  };
}

/** Runs restic and returns the result whatever the exit code. */
const restic = (argv: string[]) => host.run(argv, { okCodes: ANY, timeoutMs: 180_000 });

async function ok(argv: string[]) {
  const r = await restic(argv);
  expect(r.code, `${argv.slice(7).join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}

/** Files with awkward names and sizes, a large random one, a link, an empty dir. */
function makeSource(root: string) {
  mkdirSync(path.join(root, "deep/er/still"), { recursive: true });
  mkdirSync(path.join(root, "empty dir"));
  const names = [
    "plain.txt",
    "with space.txt",
    "new\nline",
    "-leading-dash",
    "ünïcødé — ✓.md",
    "$(reboot);`id`|&>",
    "quote'\"back\\slash",
    ".hidden",
    "deep/er/still/nested.bin",
  ];
  for (const [i, n] of names.entries()) writeFileSync(path.join(root, n), randomBytes(i * 997 + 1));
  writeFileSync(path.join(root, "empty"), "");
  // Larger than restic's chunks (512 KiB to 8 MiB), so it spans several blobs and packs.
  writeFileSync(path.join(root, "large.bin"), randomBytes(24 * 1024 * 1024));
  symlinkSync("deep/er/still/nested.bin", path.join(root, "link"));
  return [...names, "empty", "large.bin"];
}

describe.skipIf(!hasRestic)("restic, for real", () => {
  const repo = makeRepo("main");
  const src = path.join(tmp, "src");
  let files: string[] = [];

  beforeAll(async () => {
    files = makeSource(src);
    await ok(initArgv(repo));
    await ok(backupArgv(repo, { paths: [src], excludes: [] }));
  }, 180_000);

  it("restores every file byte for byte, odd names and the large one included", async () => {
    const out = path.join(tmp, "restore-1");
    await ok(restoreArgv(repo, out));
    for (const f of files) {
      const restored = readFileSync(path.join(out, src, f));
      expect(restored.equals(readFileSync(path.join(src, f))), f).toBe(true);
    }
    const report = await compareRestore(out, [src]);
    expect(report.differences).toEqual([]);
    expect(report.checked).toBe(files.length + 1); // and the link
    expect(report.identical).toBe(report.checked);
    expect(drillPassed(report)).toBe(true);
  }, 180_000);

  it("the drill names a restored file whose bytes differ though its time says unchanged", async () => {
    const out = path.join(tmp, "restore-2");
    await ok(restoreArgv(repo, out));
    const victim = path.join(out, src, "ünïcødé — ✓.md");
    const bytes = readFileSync(victim);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(victim, bytes);
    // Back to the exact (nanosecond) time restic restored, which is the source's: `touch -r`.
    execFileSync("touch", ["-r", path.join(src, "ünïcødé — ✓.md"), "--", victim]);
    // A file changed on the box since the snapshot is counted, not blamed.
    writeFileSync(path.join(src, "plain.txt"), "changed after the snapshot");
    utimesSync(path.join(src, "plain.txt"), new Date(), new Date(Date.now() + 60_000));

    const report = await compareRestore(out, [src]);
    expect(report.differences).toEqual([
      {
        path: path.join(src, "ünïcødé — ✓.md"),
        reason: "unchanged since the snapshot, but the restored bytes differ",
      },
    ]);
    expect(report.changedSince).toBe(1);
    expect(drillPassed(report)).toBe(false);
    expect(describeDrill(report)).toContain("differ although unchanged since the snapshot");
    expect(describeDrill(report)).toContain(JSON.stringify(path.join(src, "ünïcødé — ✓.md")));
  }, 180_000);

  it("a wrong password fails with what it means and what to do", async () => {
    const wrong = { ...repo, passwordFile: path.join(tmp, "wrong-password") };
    writeFileSync(wrong.passwordFile, "not the password\n", { mode: 0o600 });
    const r = await restic(catConfigArgv(wrong));
    expect(r.code).not.toBe(0);
    const e = explainRestic(r.code, r.stderr, wrong.repository);
    expect(e.kind).toBe("wrong-password");
    expect(e.message).toBe(`the backup password does not open the repository at ${wrong.repository}`);
    expect(e.hint).toMatch(/recovery kit.*\/etc\/freehold\/backup\/password/);
  });

  it("no repository at all is told apart from a wrong password", async () => {
    const none = makeRepo("none");
    const r = await restic(catConfigArgv(none));
    expect(explainRestic(r.code, r.stderr, none.repository).kind).toBe("no-repository");
  });
});

/** Every pack file under data/, with its size. */
function packs(repository: string): string[] {
  const data = path.join(repository, "data");
  return readdirSync(data).flatMap((d) => readdirSync(path.join(data, d)).map((f) => path.join(data, d, f)));
}

describe.skipIf(!hasRestic)("restic check", () => {
  it("finds a pack whose bytes were flipped, with --read-data (and says what to do)", async () => {
    const repo = makeRepo("corrupt");
    const src = path.join(tmp, "corrupt-src");
    mkdirSync(src);
    writeFileSync(path.join(src, "a.bin"), randomBytes(3 * 1024 * 1024));
    writeFileSync(path.join(src, "b.txt"), "some text\n");
    await ok(initArgv(repo));
    await ok(backupArgv(repo, { paths: [src], excludes: [] }));
    await ok(checkArgv(repo, "all"));

    // The largest pack holds file data; flip bytes in its middle.
    const pack = packs(repo.repository).sort((a, b) => statSync(b).size - statSync(a).size)[0] ?? "";
    const fd = openSync(pack, "r+");
    const at = Math.floor(statSync(pack).size / 2);
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, at);
    for (let i = 0; i < buf.length; i++) buf[i] = (buf[i] ?? 0) ^ 0xa5;
    writeSync(fd, buf, 0, 16, at);
    closeSync(fd);

    // Structure alone does not read the data: it passes; reading the data finds the damage.
    expect((await restic(checkArgv(repo, "none"))).code).toBe(0);
    const r = await restic(checkArgv(repo, "all"));
    expect(r.code).not.toBe(0);
    const e = explainRestic(r.code, r.stderr, repo.repository);
    expect(e.kind).toBe("repository-damaged");
    expect(e.hint).toContain("restic check --read-data");
  }, 180_000);
});

describe.skipIf(!hasRestic)("restic forget with the retention policy", () => {
  it("keeps 7 daily, 5 weekly and 12 monthly snapshots of ours, and never touches others", async () => {
    const repo = makeRepo("forget");
    const src = path.join(tmp, "forget-src");
    mkdirSync(src);
    writeFileSync(path.join(src, "f"), "same content every time\n");
    await ok(initArgv(repo));
    const days = Array.from({ length: 10 }, (_, i) => `2026-03-${String(i + 1).padStart(2, "0")}`);
    const weeks = ["2026-02-06", "2026-02-13", "2026-02-20"];
    const months = Array.from({ length: 13 }, (_, i) => {
      const d = new Date(Date.UTC(2025, i, 15));
      return d.toISOString().slice(0, 10);
    });
    for (const day of [...months, ...weeks, ...days])
      await ok(backupArgv(repo, { paths: [src], excludes: [], time: `${day} 12:00:00` }));
    // Someone else's snapshot (not tagged freehold), older than everything.
    await ok([...resticHead(repo), "backup", "--time", "2020-01-01 12:00:00", "--", src]);

    await ok(forgetArgv(repo, DEFAULT_RETENTION));
    const all = await ok([...resticHead(repo), "snapshots", "--json"]);
    const kept = parseSnapshots(all.stdout).map((s) => s.time.slice(0, 10));
    expect(kept).toEqual([
      "2020-01-01", // not ours
      // monthly: the newest of each of the 12 newest months (March and February 2026 count too)
      "2025-04-15",
      "2025-05-15",
      "2025-06-15",
      "2025-07-15",
      "2025-08-15",
      "2025-09-15",
      "2025-10-15",
      "2025-11-15",
      "2025-12-15",
      "2026-01-15",
      // weekly: the newest of each of the 5 newest ISO weeks (W7, W8, W9 = 1 March, W10, W11)
      "2026-02-13",
      "2026-02-20",
      "2026-03-01",
      // daily: the 7 newest days
      "2026-03-04",
      "2026-03-05",
      "2026-03-06",
      "2026-03-07",
      "2026-03-08",
      "2026-03-09",
      "2026-03-10",
    ]);
    const ours = await ok(snapshotsArgv(repo));
    expect(parseSnapshots(ours.stdout)).toHaveLength(20);
    // After --prune the repository is still whole.
    await ok(checkArgv(repo, "none"));
  }, 300_000);
});
