/** Unpack the cached bootstrap tarball into a fresh rootfs directory. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context";
import { die } from "../log";
import { bootstrapTarball } from "./10-bootstrap";

/** Refuse to delete a directory that still has something mounted below it. */
export function assertNothingMounted(dir: string): void {
  const mounts = readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
  if (mounts.length)
    die(`still mounted below ${dir}: ${mounts.join(", ")}`, `umount them first (umount -R ${dir})`);
}

export async function unpackRootfs(ctx: BuildContext): Promise<void> {
  assertNothingMounted(ctx.workDir);
  for (const d of [ctx.rootfs, ctx.bootDir]) rmSync(d, { recursive: true, force: true });
  mkdirSync(ctx.rootfs, { recursive: true });
  mkdirSync(ctx.bootDir, { recursive: true });
  await ctx.run([
    "tar",
    "--extract",
    "--preserve-permissions",
    "--same-owner",
    "--numeric-owner",
    "--xattrs",
    "--xattrs-include=*",
    "--directory",
    ctx.rootfs,
    "--file",
    bootstrapTarball(ctx),
  ]);
  const kernels = readdirSync(`${ctx.rootfs}/boot`).filter((f) => f.startsWith("vmlinuz-"));
  if (kernels.length === 0)
    die("the bootstrap has no kernel in /boot", "check the linux-image package in the target");
  const version = kernels.sort().at(-1)?.slice("vmlinuz-".length);
  ctx.state.kernelVersion = version;
  if (!existsSync(`${ctx.rootfs}/boot/initrd.img-${version}`)) die(`no initrd for kernel ${version}`);
  // The boot menu boots the /vmlinuz and /initrd.img links (the bootstrap's last hook made them).
  for (const link of ["vmlinuz", "initrd.img"]) {
    if (!existsSync(path.join(ctx.rootfs, link)))
      die(`the bootstrap has no /${link} link`, "rebuild the bootstrap (delete its cached tarball)");
  }
  ctx.info(`kernel ${version}`);
}
