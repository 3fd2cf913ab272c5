/**
 * Make the rootfs the appliance: overlays, generated config (hostname, fstab, apt sources, image
 * facts), the freehold user and directories, enabled units, and build-time state removed
 * (SSH host keys, machine-id, apt lists, logs) so that every flashed box gets its own.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { aptSources, type BuildContext } from "../context";
import { rootPartition } from "../layout";
import { die } from "../log";

function write(ctx: BuildContext, rel: string, text: string, mode = 0o644): void {
  const file = path.join(ctx.rootfs, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  rmSync(file, { force: true });
  writeFileSync(file, text, { mode });
}

/** /etc/fstab: root by filesystem UUID, the boot partition by its FAT volume id. */
export function renderFstab(ctx: Pick<BuildContext, "layout">): string {
  const lines = ["# <file system> <mount point> <type> <options> <dump> <pass>"];
  for (const p of ctx.layout.partitions) {
    if (!p.mountPoint) continue;
    if (p.fs === "ext4")
      lines.push(`UUID=${p.fsUuid}\t${p.mountPoint}\text4\tdefaults,noatime,errors=remount-ro\t0\t1`);
    else if (p.fs === "vfat") {
      const id = `${p.fsUuid?.slice(0, 4)}-${p.fsUuid?.slice(4)}`;
      lines.push(`UUID=${id}\t${p.mountPoint}\tvfat\tumask=0077,shortname=mixed,nofail\t0\t2`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function configure(ctx: BuildContext): Promise<void> {
  const { target, rootfs } = ctx;
  await ctx.step("overlays", async () => {
    for (const o of target.overlays) {
      const dir = path.join(ctx.repoRoot, "overlays", o);
      if (!existsSync(dir)) die(`overlay ${o} is missing: ${dir}`);
      // everything but the overlay's own README.md; files become root's, modes as in git
      cpSync(dir, rootfs, {
        recursive: true,
        verbatimSymlinks: true,
        force: true,
        filter: (src) => src !== path.join(dir, "README.md"),
      });
      ctx.info(`overlays/${o}`);
    }
  });

  await ctx.step("system configuration", async () => {
    write(ctx, "etc/hostname", `${target.hostname}\n`);
    write(
      ctx,
      "etc/hosts",
      `127.0.0.1\tlocalhost\n127.0.1.1\t${target.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
    );
    write(ctx, "etc/fstab", renderFstab(ctx));
    const sources = aptSources(target, ctx.opts.snapshot);
    const groups = new Map<string, string[]>();
    for (const s of sources) groups.set(s.uri, [...(groups.get(s.uri) ?? []), s.suite]);
    const stanzas = [...groups].map(([uri, suites]) =>
      [
        "Types: deb",
        `URIs: ${uri}`,
        `Suites: ${suites.join(" ")}`,
        `Components: ${target.components.join(" ")}`,
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        ...(ctx.opts.snapshot ? ["Check-Valid-Until: no"] : []),
      ].join("\n"),
    );
    write(ctx, "etc/apt/sources.list.d/debian.sources", `${stanzas.join("\n\n")}\n`);
    rmSync(path.join(rootfs, "etc/apt/sources.list"), { force: true });
    const boot = ctx.layout.partitions.find((p) => p.role === "esp" || p.role === "firmware");
    const facts = {
      target: target.name,
      arch: target.arch,
      suite: target.suite,
      kernel: ctx.state.kernelVersion,
      built: new Date(ctx.sourceDateEpoch * 1000).toISOString(),
      snapshot: ctx.opts.snapshot ?? null,
      bootMount: boot?.mountPoint ?? null,
      rootPartuuid: rootPartition(ctx.layout).partuuid,
      partitionTable: ctx.layout.table,
      dataPartitionName: "freehold-data",
    };
    write(ctx, "etc/freehold/image.json", `${JSON.stringify(facts, null, 2)}\n`);
    for (const p of ctx.layout.partitions)
      if (p.mountPoint && p.mountPoint !== "/")
        mkdirSync(path.join(rootfs, p.mountPoint), { recursive: true });
    // DNS through systemd-resolved's stub
    rmSync(path.join(rootfs, "etc/resolv.conf"), { force: true });
    symlinkSync("../run/systemd/resolve/stub-resolv.conf", path.join(rootfs, "etc/resolv.conf"));
  });

  await ctx.step("users, directories, units", async () => {
    // host tools with --root: no need to run the target's binaries
    await ctx.run(["systemd-sysusers", `--root=${rootfs}`]);
    await ctx.run([
      "systemd-tmpfiles",
      `--root=${rootfs}`,
      "--create",
      path.join(rootfs, "usr/lib/tmpfiles.d/freehold.conf"),
    ]);
    await ctx.run(["systemctl", `--root=${rootfs}`, "enable", ...target.units]);
  });

  await ctx.step("remove per-machine state", async () => {
    const etcSsh = path.join(rootfs, "etc/ssh");
    for (const f of readdirSync(etcSsh)) if (f.startsWith("ssh_host_")) rmSync(path.join(etcSsh, f));
    writeFileSync(path.join(rootfs, "etc/machine-id"), "");
    for (const rel of [
      "var/lib/dbus/machine-id",
      "var/lib/systemd/random-seed",
      "var/lib/systemd/credential.secret",
      "etc/issue.d/freehold.issue",
      "var/lib/freehold/setup-code",
      "etc/freehold/tls/key.pem",
      "etc/freehold/tls/cert.pem",
    ])
      rmSync(path.join(rootfs, rel), { force: true });
    for (const dir of [
      "var/lib/apt/lists",
      "var/cache/apt",
      "var/log",
      "tmp",
      "var/tmp",
      "var/cache/debconf",
    ]) {
      const d = path.join(rootfs, dir);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (dir === "var/lib/apt/lists" && f === "partial") continue;
        if (dir === "var/cache/apt" && f === "archives") continue;
        if (dir === "var/log") {
          // keep the directories packages created, empty the logs
          await ctx.run(["find", p, "-type", "f", "-delete"]);
          continue;
        }
        if (dir === "var/cache/debconf" && !f.endsWith("-old")) continue;
        rmSync(p, { recursive: true, force: true });
      }
    }
    await ctx.run([
      "find",
      path.join(rootfs, "var/cache/apt/archives"),
      "-type",
      "f",
      "-name",
      "*.deb",
      "-delete",
    ]);
    for (const f of [
      "var/lib/dpkg/status-old",
      "var/lib/dpkg/diversions-old",
      "etc/passwd-",
      "etc/group-",
      "etc/shadow-",
      "etc/gshadow-",
    ])
      rmSync(path.join(rootfs, f), { force: true });
  });

  await ctx.step("clamp timestamps to SOURCE_DATE_EPOCH", () =>
    ctx.run([
      "find",
      rootfs,
      "-xdev",
      "-newermt",
      `@${ctx.sourceDateEpoch}`,
      "-exec",
      "touch",
      "--no-dereference",
      `--date=@${ctx.sourceDateEpoch}`,
      "--",
      "{}",
      "+",
    ]),
  );
}
