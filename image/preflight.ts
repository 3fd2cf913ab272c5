/** Fail before working: root, tools, keyring, free space and inputs, each with a hint. */
import { existsSync, statfsSync } from "node:fs";
import path from "node:path";
import { hostArch } from "./binfmt";
import type { ResolvedOptions } from "./context";
import { die } from "./log";
import type { Target } from "./targets/schema";

export interface PreflightProblem {
  message: string;
  hint: string;
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin")
    .split(":")
    .concat(["/usr/sbin", "/sbin"])) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

const BOOTSTRAP_HINT = "run scripts/bootstrap (as root) to install the image build prerequisites";

/** Host tools by Debian package, for hints. */
export const HOST_TOOLS: Record<string, string> = {
  mmdebstrap: "mmdebstrap",
  eatmydata: "eatmydata",
  tar: "tar",
  chroot: "coreutils",
  sfdisk: "fdisk",
  "mkfs.ext4": "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  "mkfs.vfat": "dosfstools",
  mcopy: "mtools",
  bmaptool: "bmap-tools",
  xz: "xz-utils",
  zstd: "zstd",
  "systemd-sysusers": "systemd",
  "systemd-tmpfiles": "systemd",
  systemctl: "systemd",
  // fetching a newer qemu-user for arm64 builds (image/qemu-user.ts)
  "apt-get": "apt",
  "dpkg-deb": "dpkg",
};

export function preflightProblems(target: Target, opts: ResolvedOptions): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  if (process.getuid?.() !== 0)
    problems.push({
      message: "building an image needs root (mmdebstrap, chroot, file ownership in the image)",
      hint: `run the build as root, e.g. sudo npx freehold image build --target ${target.name}`,
    });
  for (const [tool, pkg] of Object.entries(HOST_TOOLS))
    if (!which(tool))
      problems.push({ message: `${tool} is missing`, hint: `apt-get install ${pkg} (or ${BOOTSTRAP_HINT})` });
  if (target.arch !== hostArch()) {
    if (!which("qemu-aarch64-static"))
      problems.push({ message: "qemu-aarch64-static is missing", hint: "apt-get install qemu-user-static" });
    if (!which("arch-test"))
      problems.push({
        message: "arch-test is missing (mmdebstrap needs it for foreign architectures)",
        hint: "apt-get install arch-test",
      });
  }
  if (!existsSync("/usr/share/keyrings/debian-archive-keyring.gpg"))
    problems.push({
      message: "the Debian archive keyring is missing",
      hint: "apt-get install debian-archive-keyring",
    });
  for (const built of ["server.cjs", "compile-cache.cjs", "agent.mjs"]) {
    const file = path.join(opts.webAppDir, ".next/standalone", built);
    if (!existsSync(file))
      problems.push({
        message: `the ${built === "agent.mjs" ? "agent" : "web app"} is not built (${file} is missing)`,
        hint: `run \`npm run build\` in ${opts.webAppDir} first`,
      });
  }
  const need = (dir: string, bytes: number, what: string) => {
    let d = dir;
    while (!existsSync(d)) d = path.dirname(d);
    const s = statfsSync(d);
    const free = s.bavail * s.bsize;
    if (free < bytes)
      problems.push({
        message: `${what} (${dir}) has ${(free / 2 ** 30).toFixed(1)} GiB free, the build needs ${(bytes / 2 ** 30).toFixed(1)} GiB`,
        hint: "free some space or point FREEHOLD_IMAGE_CACHE / --out elsewhere",
      });
  };
  need(opts.cacheDir, 5 * 2 ** 30, "the cache directory");
  need(opts.outDir, 1 * 2 ** 30, "the output directory");
  return problems;
}

export function preflight(target: Target, opts: ResolvedOptions): void {
  const problems = preflightProblems(target, opts);
  if (problems.length === 0) return;
  const message = problems.map((p) => `  - ${p.message}`).join("\n");
  const hint = [...new Set(problems.map((p) => p.hint))].join("\n  ");
  die(`cannot build the ${target.name} image:\n${message}`, hint);
}
