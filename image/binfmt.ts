/**
 * Foreign-architecture support: arm64 chroots run through qemu-user via binfmt_misc. The build host
 * has no systemd-binfmt, so the builder mounts binfmt_misc and registers its own entry,
 * `freehold-aarch64`, for the qemu-aarch64 that chooseQemuUser picked. The kernel tries the most
 * recently registered entry first, so ours is used even beside the host's `qemu-aarch64` entry.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { run } from "./exec";
import { die } from "./log";
import { chooseQemuUser, type QemuChoice } from "./qemu-user";

const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";
export const ENTRY = "freehold-aarch64";
/** ELF64, little-endian, e_machine = EM_AARCH64 (183), as in qemu's own binfmt registrations. */
const MAGIC =
  "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00";
const MASK =
  "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff";

export function hostArch(): "amd64" | "arm64" | string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

/** The register line; F: the kernel opens the interpreter now, so chroots need no qemu inside. */
export function registration(interpreter: string): string {
  return `:${ENTRY}:M:0:${MAGIC}:${MASK}:${interpreter}:F`;
}

export type BinfmtStatus = "ready" | "disabled" | "missing" | "other-interpreter" | "unmounted";

/** Our entry's state, from the text of /proc/sys/fs/binfmt_misc/freehold-aarch64 (null: absent). */
export function parseBinfmtEntry(
  text: string | null,
  interpreter: string,
): Exclude<BinfmtStatus, "unmounted"> {
  if (text === null) return "missing";
  if (/^interpreter (\S+)$/m.exec(text)?.[1] !== interpreter || !/^flags: \S*F/m.test(text))
    return "other-interpreter";
  return text.startsWith("enabled") ? "ready" : "disabled";
}

export function binfmtStatus(interpreter: string): BinfmtStatus {
  if (!existsSync(`${BINFMT_DIR}/register`)) return "unmounted";
  const entry = `${BINFMT_DIR}/${ENTRY}`;
  return parseBinfmtEntry(existsSync(entry) ? readFileSync(entry, "utf8") : null, interpreter);
}

export interface ForeignArch {
  how: "native" | "already" | "registered";
  qemu?: QemuChoice;
}

/** Make arm64 binaries runnable on this host (no-op on arm64 hosts). */
export async function ensureForeignArch(
  arch: "amd64" | "arm64",
  where: { cacheDir: string; mirror: string },
): Promise<ForeignArch> {
  if (arch === hostArch()) return { how: "native" };
  if (arch !== "arm64") die(`cannot build ${arch} images on a ${hostArch()} host`);
  let qemu: QemuChoice;
  try {
    qemu = await chooseQemuUser(where.cacheDir, where.mirror);
  } catch (e) {
    die(
      `no qemu-aarch64 to run arm64 programs: ${(e as Error).message}`,
      "apt-get install qemu-user-static (scripts/bootstrap does this)",
    );
  }
  let status = binfmtStatus(qemu.interpreter);
  if (status === "ready") return { how: "already", qemu };
  const hint =
    "as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; then " +
    `echo '${registration(qemu.interpreter)}' > /proc/sys/fs/binfmt_misc/register`;
  if (status === "unmounted") {
    try {
      await run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT_DIR]);
    } catch (e) {
      die(`cannot mount binfmt_misc: ${(e as Error).message}`, hint);
    }
    status = binfmtStatus(qemu.interpreter);
  }
  try {
    if (status === "other-interpreter") writeFileSync(`${BINFMT_DIR}/${ENTRY}`, "-1");
    if (status === "disabled") writeFileSync(`${BINFMT_DIR}/${ENTRY}`, "1");
    else if (status !== "ready") writeFileSync(`${BINFMT_DIR}/register`, registration(qemu.interpreter));
  } catch (e) {
    die(`cannot register ${ENTRY} with binfmt_misc: ${(e as Error).message}`, hint);
  }
  if (binfmtStatus(qemu.interpreter) !== "ready")
    die(`the ${ENTRY} binfmt registration did not take effect`, hint);
  return { how: "registered", qemu };
}
