/**
 * Bootloaders. GRUB (amd64: i386-pc + x86_64-efi; arm64: arm64-efi) is built with the image's own
 * grub-mkimage into a core image with an early config that finds the root filesystem by UUID; the
 * menu (/boot/grub/grub.cfg) boots the /vmlinuz and /initrd.img symlinks that Debian's kernel
 * packages keep current, so kernel updates need no bootloader run. The Raspberry Pi boots from
 * its firmware partition, filled by raspi-firmware's own kernel hooks.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context";
import { rootPartition } from "../layout";
import { die } from "../log";

/** Run fn with /proc mounted in the rootfs; always unmounted afterwards. */
export async function withProc<T>(ctx: BuildContext, fn: () => Promise<T>): Promise<T> {
  const proc = path.join(ctx.rootfs, "proc");
  mkdirSync(proc, { recursive: true });
  await ctx.run(["mount", "-t", "proc", "proc", proc]);
  try {
    return await fn();
  } finally {
    await ctx.run(["umount", proc]).catch(() => ctx.run(["umount", "--lazy", proc]));
  }
}

export function kernelCmdline(ctx: Pick<BuildContext, "layout" | "target">): string {
  return [
    `root=PARTUUID=${rootPartition(ctx.layout).partuuid}`,
    "ro",
    "rootwait",
    ...ctx.target.kernelCmdline,
  ].join(" ");
}

export function renderGrubCfg(ctx: Pick<BuildContext, "layout" | "target">): string {
  if (ctx.target.bootloader.kind !== "grub") throw new Error("not a grub target");
  const uuid = rootPartition(ctx.layout).fsUuid;
  const cmdline = kernelCmdline(ctx);
  const entry = (title: string, suffix: string) =>
    [
      `menuentry "${title}" {`,
      `\tsearch --no-floppy --fs-uuid --set=root ${uuid}`,
      `\tlinux /vmlinuz${suffix} ${cmdline}`,
      `\tinitrd /initrd.img${suffix}`,
      "}",
    ].join("\n");
  return `${[
    "# Freehold boot menu (written by the image builder). The kernel entries use the /vmlinuz and",
    "# /initrd.img symlinks that Debian's kernel packages update, so no update-grub is needed.",
    "set default=0",
    `set timeout=${ctx.target.bootloader.timeoutSeconds}`,
    'if [ "$grub_platform" = "pc" ]; then',
    "\tserial --unit=0 --speed=115200",
    "\tterminal_input console serial",
    "\tterminal_output console serial",
    "fi",
    entry("Freehold", ""),
    entry("Freehold (previous kernel)", ".old"),
  ].join("\n")}\n`;
}

export function renderEarlyCfg(ctx: Pick<BuildContext, "layout">): string {
  const uuid = rootPartition(ctx.layout).fsUuid;
  return `search --no-floppy --fs-uuid --set=root ${uuid}\nset prefix=($root)/boot/grub\n`;
}

async function installGrub(ctx: BuildContext): Promise<void> {
  const bl = ctx.target.bootloader;
  if (bl.kind !== "grub") return;
  const { rootfs } = ctx;
  const grubDir = path.join(rootfs, "boot/grub");
  mkdirSync(grubDir, { recursive: true });
  writeFileSync(path.join(grubDir, "grub.cfg"), renderGrubCfg(ctx));
  const tmpRel = "tmp/freehold-grub";
  const tmp = path.join(rootfs, tmpRel);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, "early.cfg"), renderEarlyCfg(ctx));
  const out = path.join(ctx.workDir, "grub");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  for (const platform of bl.platforms) {
    const modDir = path.join(rootfs, "usr/lib/grub", platform);
    if (!existsSync(modDir))
      die(
        `GRUB ${platform} modules missing in the image`,
        `add the grub ${platform} -bin package to the target`,
      );
    const modules = bl.modules.filter((m) => existsSync(path.join(modDir, `${m}.mod`)));
    const outName = platform === "i386-pc" ? "core.img" : path.basename(bl.efiPath ?? "BOOT.EFI");
    await ctx.step(`grub-mkimage ${platform}`, () =>
      ctx.chroot([
        "grub-mkimage",
        "--format",
        platform,
        "--directory",
        `/usr/lib/grub/${platform}`,
        "--prefix",
        "/boot/grub",
        "--config",
        `/${tmpRel}/early.cfg`,
        "--output",
        `/${tmpRel}/${outName}`,
        ...(platform === "i386-pc"
          ? []
          : ["--sbat", "/usr/share/grub/sbat.csv"].filter(() =>
              existsSync(path.join(rootfs, "usr/share/grub/sbat.csv")),
            )),
        ...modules,
      ]),
    );
    renameSync(path.join(tmp, outName), path.join(out, outName));
    // modules beside grub.cfg, for anything normal mode loads on demand
    const dest = path.join(grubDir, platform);
    mkdirSync(dest, { recursive: true });
    for (const f of readdirSync(modDir))
      if (/\.(mod|lst)$/.test(f)) cpSync(path.join(modDir, f), path.join(dest, f));
    if (platform === "i386-pc") {
      cpSync(path.join(modDir, "boot.img"), path.join(out, "boot.img"));
      ctx.state.bootFiles["boot.img"] = path.join(out, "boot.img");
      ctx.state.bootFiles["core.img"] = path.join(out, "core.img");
    } else {
      const efi = path.join(ctx.bootDir, bl.efiPath ?? "");
      mkdirSync(path.dirname(efi), { recursive: true });
      cpSync(path.join(out, outName), efi);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}

export function bootPartitionReadme(ctx: Pick<BuildContext, "target">): string {
  return [
    "Freehold boot partition",
    "",
    "Files you may place here before the first boot (freehold flash does it for you):",
    "  freehold-setup-code.txt   the setup code to claim the box (XXXX-XXXX-XXXX-XXXX)",
    "  freehold-hostname.txt     host name (default: freehold, reachable as freehold.local)",
    '  freehold-wifi.json        {"ssid": "...", "psk": "..."}',
    "  freehold-authorized_keys  SSH public keys for root",
    "Each file is applied on boot and then deleted from this partition.",
    `Target: ${ctx.target.name}`,
    "",
  ].join("\r\n");
}

async function installRpiFirmware(ctx: BuildContext): Promise<void> {
  const bl = ctx.target.bootloader;
  if (bl.kind !== "rpi-firmware") return;
  const { rootfs } = ctx;
  const fw = ctx.layout.partitions.find((p) => p.role === "firmware");
  if (!fw) die("no firmware partition");
  const root = rootPartition(ctx.layout);
  // raspi-firmware's hooks read these to write cmdline.txt and config.txt
  const cmdline = kernelCmdline(ctx).replace(/^root=\S+ /, "");
  writeFileSync(
    path.join(rootfs, "etc/default/raspi-firmware"),
    [
      "# Written by the Freehold image builder; read by raspi-firmware's kernel hooks.",
      `ROOTPART=PARTUUID=${root.partuuid}`,
      `CONSOLES="${ctx.target.kernelCmdline
        .filter((a) => a.startsWith("console="))
        .map((a) => a.slice(8))
        .join(" ")}"`,
      "KERNEL_ARCH=arm64",
      "",
    ].join("\n"),
  );
  writeFileSync(path.join(rootfs, "etc/default/raspi-firmware-custom"), `${bl.configTxt.join("\n")}\n`);
  writeFileSync(
    path.join(rootfs, "etc/default/raspi-extra-cmdline"),
    `${cmdline
      .split(" ")
      // the hook itself writes the consoles, root, rw, fsck.repair=yes and rootwait
      .filter((a) => !a.startsWith("console=") && !["ro", "rw", "rootwait", "fsck.repair=yes"].includes(a))
      .join(" ")}\n`,
  );
  const fwDir = path.join(rootfs, fw.mountPoint.slice(1));
  mkdirSync(fwDir, { recursive: true });
  const version = ctx.state.kernelVersion ?? die("kernel version unknown");
  await ctx.step("raspi-firmware hooks", () =>
    // the hooks check `ischroot`, which needs /proc inside the chroot
    withProc(ctx, async () => {
      await ctx.chroot(["/etc/kernel/postinst.d/z50-raspi-firmware", version, `/boot/vmlinuz-${version}`]);
      await ctx.chroot([
        "/etc/initramfs/post-update.d/z50-raspi-firmware",
        version,
        `/boot/initrd.img-${version}`,
      ]);
    }),
  );
  // everything the firmware partition carries moves to bootDir (the FAT image), the mount point stays empty
  cpSync(fwDir, ctx.bootDir, { recursive: true });
  for (const f of readdirSync(fwDir)) rmSync(path.join(fwDir, f), { recursive: true, force: true });
  const missing = ["config.txt", "cmdline.txt", ...bl.dtbs].filter(
    (f) => !existsSync(path.join(ctx.bootDir, f)),
  );
  if (missing.length)
    die(
      `firmware partition lacks ${missing.join(", ")}`,
      "check raspi-firmware and the kernel's device trees",
    );
  const cmd = readFileSync(path.join(ctx.bootDir, "cmdline.txt"), "utf8");
  if (!cmd.includes(`root=PARTUUID=${root.partuuid}`))
    die(`cmdline.txt does not name the root partition: ${cmd}`);
}

export async function installBootloader(ctx: BuildContext): Promise<void> {
  writeFileSync(path.join(ctx.bootDir, "freehold-README.txt"), bootPartitionReadme(ctx));
  if (ctx.target.bootloader.kind === "grub") await installGrub(ctx);
  else await installRpiFirmware(ctx);
}
