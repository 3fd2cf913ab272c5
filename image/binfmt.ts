/**
 * Foreign-architecture support: arm64 chroots run through qemu-user via binfmt_misc. The build host
 * has no systemd-binfmt, so the builder mounts binfmt_misc and registers qemu-aarch64 itself.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { run } from "./exec";
import { die } from "./log";

const BINFMT_DIR = "/proc/sys/fs/binfmt_misc";
const ENTRY = "qemu-aarch64";
const QEMU_STATIC = "/usr/bin/qemu-aarch64-static";
/** ELF64, little-endian, e_machine = EM_AARCH64 (183), as in qemu's own binfmt registrations. */
const MAGIC =
  "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00";
const MASK =
  "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff";

export function hostArch(): "amd64" | "arm64" | string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

/** Read magic/mask from /usr/share/binfmts/qemu-aarch64 when present, else qemu's well-known values. */
function registration(): string {
  let magic = MAGIC;
  let mask = MASK;
  const spec = "/usr/share/binfmts/qemu-aarch64";
  if (existsSync(spec)) {
    const text = readFileSync(spec, "utf8");
    magic = /^magic (\S+)$/m.exec(text)?.[1] ?? magic;
    mask = /^mask (\S+)$/m.exec(text)?.[1] ?? mask;
  }
  // F: the kernel opens the interpreter now, so it works inside chroots without qemu in them.
  return `:${ENTRY}:M:0:${magic}:${mask}:${QEMU_STATIC}:F`;
}

export function binfmtStatus(): "ready" | "disabled" | "missing" | "unmounted" {
  if (!existsSync(`${BINFMT_DIR}/register`)) return "unmounted";
  const entry = `${BINFMT_DIR}/${ENTRY}`;
  if (!existsSync(entry)) return "missing";
  const text = readFileSync(entry, "utf8");
  if (!text.startsWith("enabled")) return "disabled";
  if (!/flags: \S*F/.test(text)) return "missing";
  return "ready";
}

/** Make arm64 binaries runnable on this host (no-op on arm64 hosts). */
export async function ensureForeignArch(
  arch: "amd64" | "arm64",
): Promise<"native" | "already" | "registered"> {
  if (arch === hostArch()) return "native";
  if (arch !== "arm64") die(`cannot build ${arch} images on a ${hostArch()} host`);
  if (!existsSync(QEMU_STATIC))
    die(`${QEMU_STATIC} is missing`, "apt-get install qemu-user-static (scripts/bootstrap does this)");
  let status = binfmtStatus();
  if (status === "ready") return "already";
  const hint =
    "as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; then " +
    `echo '${registration()}' > /proc/sys/fs/binfmt_misc/register`;
  if (status === "unmounted") {
    try {
      await run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT_DIR]);
    } catch (e) {
      die(`cannot mount binfmt_misc: ${(e as Error).message}`, hint);
    }
    status = binfmtStatus();
  }
  try {
    if (status === "missing" && existsSync(`${BINFMT_DIR}/${ENTRY}`)) {
      writeFileSync(`${BINFMT_DIR}/${ENTRY}`, "-1"); // registered without F: replace it
    }
    if (status === "disabled") writeFileSync(`${BINFMT_DIR}/${ENTRY}`, "1");
    else writeFileSync(`${BINFMT_DIR}/register`, registration());
  } catch (e) {
    die(`cannot register qemu-aarch64 with binfmt_misc: ${(e as Error).message}`, hint);
  }
  if (binfmtStatus() !== "ready") die("qemu-aarch64 binfmt registration did not take effect", hint);
  return "registered";
}
