import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ExecOptions } from "../../../app/agent/host";
import {
  backupHeader,
  blkid,
  chooseCipher,
  ensureRecoveryKey,
  formatLuks,
  isLuks,
  keyOpens,
  luksProblems,
  PBKDF_MEMORY_KIB,
  readLuks,
} from "../../../app/agent/ops/luks";
import { RealHost } from "../../../app/agent/real-host";

/**
 * The real cryptsetup on a 64 MiB image file, through the same helpers and the real Host that
 * volume.encrypt uses (opening needs device-mapper, which the test host lacks: the VM tests do that).
 * Only the unlock-time benchmark is shortened (iter-time), so the suite stays quick.
 */

const PASS = "correct horse battery staple";
const RECOVERY = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567";
const FAST = { iterTimeMs: 200 };
const AES = chooseCipher("flags\t\t: fpu aes\n");

const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-luks-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canLuks = (() => {
  const probe = path.join(tmp, "probe.img");
  writeFileSync(probe, "");
  truncateSync(probe, 32 * 1024 * 1024);
  const r = spawnSync(
    "cryptsetup",
    [
      "luksFormat",
      "--type",
      "luks2",
      "--batch-mode",
      "--pbkdf-memory",
      "32768",
      "--iter-time",
      "10",
      "--key-file",
      "-",
      probe,
    ],
    { input: "probe" },
  );
  rmSync(probe);
  return r.status === 0;
})();

/** The real host, remembering every argv so the test can show no key ever reached one. */
class WatchedHost extends RealHost {
  readonly argvs: string[][] = [];
  override run(argv: readonly string[], options?: ExecOptions) {
    this.argvs.push([...argv]);
    return super.run(argv, options);
  }
}

describe.skipIf(!canLuks)("LUKS2 with the real cryptsetup (image file)", () => {
  const host = new WatchedHost();
  const img = path.join(tmp, "data.img");

  it("formats, adds the recovery key once, and reads back what verify checks", async () => {
    writeFileSync(img, "");
    truncateSync(img, 64 * 1024 * 1024);
    expect(await isLuks(host, img)).toBe(false);
    expect(await blkid(host, img)).toEqual({});

    await formatLuks(host, img, PASS, AES, FAST);
    expect(await isLuks(host, img)).toBe(true);
    expect(await ensureRecoveryKey(host, img, PASS, RECOVERY, FAST)).toBe(true);
    // A resumed run finds the recovery key and adds no third slot.
    expect(await ensureRecoveryKey(host, img, PASS, RECOVERY, FAST)).toBe(false);

    const info = await readLuks(host, img);
    expect(info).toMatchObject({
      label: "freehold-data",
      subsystem: "freehold",
      ciphers: ["aes-xts-plain64"],
    });
    // --pbkdf-memory is a ceiling: the benchmark may lower it to meet the (here shortened) time.
    expect(info?.keyslots.map((k) => k.kdf)).toEqual(["argon2id", "argon2id"]);
    for (const k of info?.keyslots ?? []) expect(k.memory).toBeLessThanOrEqual(PBKDF_MEMORY_KIB);
    expect(luksProblems(info, AES)).toEqual([]);
    expect(luksProblems(info, chooseCipher(""))).toEqual(["cipher aes-xts-plain64"]);
    expect((await blkid(host, img)).TYPE).toBe("crypto_LUKS");
  });

  it("opens with the passphrase and the recovery key, not with a wrong key", async () => {
    expect(await keyOpens(host, img, PASS)).toBe(true);
    expect(await keyOpens(host, img, RECOVERY)).toBe(true);
    expect(await keyOpens(host, img, "a wrong passphrase")).toBe(false);
    expect(await keyOpens(host, img, `${PASS}\n`)).toBe(false); // the exact bytes, no newline added
  });

  it("backs the header up (again: the old backup goes first), readable by root only", async () => {
    const backup = path.join(tmp, "luks-header-freehold-data.img");
    await backupHeader(host, img, backup);
    await backupHeader(host, img, backup);
    expect(statSync(backup).mode & 0o077).toBe(0);
    expect(await isLuks(host, backup)).toBe(true);
    expect(await keyOpens(host, backup, RECOVERY)).toBe(true);
  });

  it("refuses to add the recovery key with a wrong passphrase", async () => {
    const other = path.join(tmp, "other.img");
    writeFileSync(other, "");
    truncateSync(other, 64 * 1024 * 1024);
    await formatLuks(host, other, PASS, AES, FAST);
    await expect(ensureRecoveryKey(host, other, "not the passphrase", RECOVERY, FAST)).rejects.toThrow(
      /does not open/,
    );
  });

  it("never put a key into an argv", () => {
    expect(host.argvs.length).toBeGreaterThan(10);
    for (const argv of host.argvs) {
      for (const arg of argv) for (const key of [PASS, RECOVERY]) expect(arg).not.toContain(key);
    }
  });
});
