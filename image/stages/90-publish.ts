/** Move the staged outputs into outDir together, with a manifest, and clean the workspace. */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context";
import { renderSfdiskScript } from "../layout";
import { assertNothingMounted } from "./20-rootfs";

/** name=version for each installed package, from the image's dpkg status. */
export function installedPackages(rootfs: string): string[] {
  const status = readFileSync(path.join(rootfs, "var/lib/dpkg/status"), "utf8");
  return status
    .split("\n\n")
    .filter((s) => /^Status: install ok installed$/m.test(s))
    .map((s) => `${/^Package: (.+)$/m.exec(s)?.[1]}=${/^Version: (.+)$/m.exec(s)?.[1]}`)
    .sort();
}

export async function publish(ctx: BuildContext): Promise<void> {
  const t = ctx.target.name;
  writeFileSync(path.join(ctx.stagingDir, `freehold-${t}.sfdisk`), renderSfdiskScript(ctx.layout));
  const manifest = {
    target: t,
    arch: ctx.target.arch,
    suite: ctx.target.suite,
    kernel: ctx.state.kernelVersion,
    sourceDateEpoch: ctx.sourceDateEpoch,
    snapshot: ctx.opts.snapshot ?? null,
    compression: ctx.opts.compress,
    sha256: ctx.state.sha256,
    sizeBytes: ctx.layout.sizeBytes,
    partitions: ctx.layout.partitions.map(
      ({ name, role, startSector, sizeSectors, partuuid, fs, fsUuid, fsLabel }) => ({
        name,
        role,
        startSector,
        sizeSectors,
        partuuid,
        fs,
        fsUuid,
        fsLabel,
      }),
    ),
    packages: installedPackages(ctx.rootfs),
  };
  writeFileSync(
    path.join(ctx.stagingDir, `freehold-${t}.manifest.json`),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  mkdirSync(ctx.opts.outDir, { recursive: true });
  // remove outputs of an earlier build of this target (the other compression too)
  for (const f of readdirSync(ctx.opts.outDir))
    if (f.startsWith(`freehold-${t}.`)) rmSync(path.join(ctx.opts.outDir, f), { force: true });
  for (const f of readdirSync(ctx.stagingDir)) {
    renameSync(path.join(ctx.stagingDir, f), path.join(ctx.opts.outDir, f));
    ctx.state.published.push(path.join(ctx.opts.outDir, f));
  }
  rmSync(ctx.stagingDir, { recursive: true, force: true });
  if (!ctx.opts.keepWorkDir) {
    assertNothingMounted(ctx.workDir);
    for (const e of readdirSync(ctx.workDir))
      if (e !== "build.log") rmSync(path.join(ctx.workDir, e), { recursive: true, force: true });
  }
  if (!existsSync(ctx.opts.outDir)) throw new Error("unreachable");
}
