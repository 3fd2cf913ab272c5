/**
 * Bootstrap Debian with mmdebstrap into a tarball cached under <cache>/bootstrap, keyed by
 * sha256(package list, mirrors, arch, suite, snapshot, dpkg filters): a second build skips it.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ensureForeignArch } from "../binfmt";
import { aptSources, type BuildContext, bootstrapKey, DPKG_FILTERS } from "../context";

export function bootstrapTarball(ctx: BuildContext): string {
  const key = bootstrapKey(ctx.target, ctx.opts.snapshot);
  return path.join(
    ctx.opts.cacheDir,
    "bootstrap",
    `${ctx.target.suite}-${ctx.target.arch}-${key.slice(0, 16)}.tar`,
  );
}

export async function bootstrap(ctx: BuildContext): Promise<void> {
  const { target } = ctx;
  await ctx.step("foreign architecture", async () => {
    const foreign = await ensureForeignArch(target.arch, {
      cacheDir: ctx.opts.cacheDir,
      mirror: target.mirror,
    });
    if (!foreign.qemu) ctx.info(`${target.arch}: native`);
    else {
      ctx.info(
        `${target.arch}: ${foreign.qemu.version} (${foreign.qemu.source}) via binfmt_misc (${foreign.how})`,
      );
      if (foreign.qemu.warning) ctx.info(`warning: ${foreign.qemu.warning}`);
    }
  });
  const tarball = bootstrapTarball(ctx);
  if (existsSync(tarball)) {
    ctx.state.bootstrapCacheHit = true;
    ctx.info(`cached: ${tarball}`);
    return;
  }
  mkdirSync(path.dirname(tarball), { recursive: true });
  const tmp = `${tarball}.tmp-${process.pid}`;
  const sources = aptSources(target, ctx.opts.snapshot).map(
    (s) => `deb ${s.options ? `${s.options} ` : ""}${s.uri} ${s.suite} ${target.components.join(" ")}`,
  );
  const argv = [
    "mmdebstrap",
    `--variant=${target.variant}`,
    "--mode=root",
    "--format=tar",
    `--architectures=${target.arch}`,
    `--components=${target.components.join(",")}`,
    "--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata",
    "--aptopt=Acquire::Retries 3",
    "--aptopt=APT::Install-Recommends false",
    ...DPKG_FILTERS.map((f) => `--dpkgopt=${f}`),
    `--include=${target.packages.join(",")}`,
    '--customize-hook=chroot "$1" update-initramfs -c -k all',
    // INITRD=No also kept linux-update-symlinks from making /initrd.img (the boot menu boots the
    // /vmlinuz and /initrd.img links); now that the initramfs exists, make both for the newest kernel
    // (INITRD=Yes: the hook inherits the run's INITRD=No, which would leave the link out again).
    `--customize-hook=chroot "$1" sh -c 'v=$(ls /boot | sed -n "s/^vmlinuz-//p" | sort -V | tail -n 1) && INITRD=Yes linux-update-symlinks install "$v" "/boot/vmlinuz-$v"'`,
    "--",
    target.suite,
    tmp,
    ...sources,
  ];
  try {
    await ctx.step(`mmdebstrap ${target.suite} ${target.arch} (${target.packages.length} packages)`, () =>
      ctx.run(argv, {
        env: {
          ...process.env,
          SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch),
          TMPDIR: ctx.workDir,
          // The kernel's postinst hook would build an initramfs before every package with
          // initramfs hooks is configured, and initramfs-tools' trigger would rebuild it. INITRD=No
          // skips the hook; the customize hook below builds it once, complete: under emulation
          // that saves two minutes of a cold arm64 build.
          INITRD: "No",
        },
        hint: "check the network connection to the Debian mirror (deb.debian.org) and the package names in image/targets/",
      }),
    );
    renameSync(tmp, tarball);
    writeFileSync(
      `${tarball}.json`,
      JSON.stringify(
        { target: target.name, packages: target.packages, sources, created: new Date().toISOString() },
        null,
        2,
      ),
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}
