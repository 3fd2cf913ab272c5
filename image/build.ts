/**
 * The image build as a flat recipe: preflight, then the stages in order, each a timed step.
 * Entry points for the CLI: buildImage(), summary(), and the flash() in ./flash.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import {
  type BuildContext,
  type BuildOptionsInput,
  bootstrapKey,
  createContext,
  REPO_ROOT,
  resolveOptions,
} from "./context";
import { capture } from "./exec";
import { computeLayout, renderSfdiskScript } from "./layout";
import { type BuildSummary, createReporter, ImageBuildError, type ProgressFn, renderSummary } from "./log";
import { preflight } from "./preflight";
import { bootstrap, bootstrapTarball } from "./stages/10-bootstrap";
import { unpackRootfs } from "./stages/20-rootfs";
import { installWebApp } from "./stages/30-webapp";
import { configure } from "./stages/40-configure";
import { installBootloader } from "./stages/50-bootloader";
import { assembleDisk } from "./stages/60-disk";
import { makeFilesystems } from "./stages/70-filesystems";
import { compressImage } from "./stages/80-compress";
import { publish } from "./stages/90-publish";
import { getTarget } from "./targets/index";
import type { TargetName } from "./targets/schema";

export { type BuildOptionsInput, BuildOptionsSchema } from "./context";
export { type BuildSummary, ImageBuildError, type ProgressEvent, type ProgressFn } from "./log";

export const STAGES: readonly (readonly [string, (ctx: BuildContext) => Promise<void>])[] = [
  ["bootstrap", bootstrap],
  ["unpack rootfs", unpackRootfs],
  ["web app", installWebApp],
  ["configure", configure],
  ["bootloader", installBootloader],
  ["disk image", assembleDisk],
  ["filesystems", makeFilesystems],
  ["compress", compressImage],
  ["publish", publish],
];

export async function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (env.SOURCE_DATE_EPOCH && /^\d+$/.test(env.SOURCE_DATE_EPOCH)) return Number(env.SOURCE_DATE_EPOCH);
  try {
    const ct = await capture(["git", "-C", REPO_ROOT, "log", "-1", "--format=%ct"]);
    if (/^\d+$/.test(ct)) return Number(ct);
  } catch {
    /* not a git checkout, or no commits yet */
  }
  return Math.floor(Date.now() / 1000);
}

/** One build per target at a time (the workspace is per target). */
function lock(file: string): () => void {
  try {
    const fd = openSync(file, "wx");
    writeSync(fd, String(process.pid));
    closeSync(fd);
  } catch {
    const pid = Number(readFileSync(file, "utf8"));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {}
    if (alive)
      throw new ImageBuildError(
        `another build (pid ${pid}) is using ${path.dirname(file)}`,
        "wait for it to finish",
      );
    rmSync(file, { force: true });
    return lock(file);
  }
  return () => rmSync(file, { force: true });
}

export interface BuildImageOptions extends BuildOptionsInput {}

/**
 * Build dist/freehold-<target>.img.xz (or .zst) with .sha256, .bmap, .sfdisk and .manifest.json.
 * Progress goes to stderr (nested, timed steps) and to `progress` as events; throws
 * ImageBuildError (message + hint) on failure.
 */
export async function buildImage(
  input: BuildImageOptions,
  progress?: ProgressFn,
  io: { write?: ((line: string) => void) | null } = {},
): Promise<BuildSummary> {
  const opts = resolveOptions(input);
  const target = getTarget(opts.target);
  const reporter = createReporter({ progress, write: io.write });
  const t0 = Date.now();
  await reporter.step("preflight", async () => preflight(target, opts));
  const epoch = await sourceDateEpoch();
  const ctx = createContext(opts, reporter, epoch, target);
  const unlock = lock(path.join(ctx.workDir, ".lock"));
  try {
    reporter.info(
      `target ${target.name} (${target.description}); SOURCE_DATE_EPOCH=${epoch}; cache ${opts.cacheDir}`,
    );
    for (const [name, stage] of STAGES) await reporter.step(name, () => stage(ctx));
  } catch (e) {
    ctx.log.write(`FAILED: ${(e as Error).message}\n`);
    if (e instanceof ImageBuildError && !e.hint)
      throw new ImageBuildError(e.message, `see ${path.join(ctx.workDir, "build.log")}`);
    throw e;
  } finally {
    unlock();
    ctx.log.end();
  }
  const ext = opts.compress === "xz" ? "xz" : "zst";
  const image = path.join(opts.outDir, `freehold-${target.name}.img.${ext}`);
  const summary: BuildSummary = {
    target: target.name,
    image,
    rawBytes: ctx.layout.sizeBytes,
    rawAllocatedBytes: ctx.state.rawAllocatedBytes ?? 0,
    compressedBytes: existsSync(image) ? statSync(image).size : 0,
    sha256: ctx.state.sha256 ?? "",
    totalMs: Date.now() - t0,
    phases: reporter.phases,
    bootstrapCacheHit: ctx.state.bootstrapCacheHit,
  };
  reporter.emit({ type: "summary", summary });
  const write = io.write === undefined ? (l: string) => process.stderr.write(`${l}\n`) : io.write;
  write?.(renderSummary(summary));
  return summary;
}

/** The resolved configuration of a target as text (what `freehold image summary` prints). */
export function summary(targetName: TargetName, input: Partial<BuildOptionsInput> = {}): string {
  const opts = resolveOptions({ ...input, target: targetName });
  const t = getTarget(targetName);
  const layout = renderSfdiskScript(computeLayout(t));
  const tarball = bootstrapTarball({ target: t, opts } as BuildContext);
  return [
    `Target        ${t.name}: ${t.description}`,
    `Debian        ${t.suite} ${t.arch} (${t.variant}), components ${t.components.join(" ")}${t.backports ? ", backports" : ""}`,
    `Mirror        ${opts.snapshot ? `snapshot ${opts.snapshot}` : `${t.mirror} + ${t.securityMirror}`}`,
    `Bootstrap     key ${bootstrapKey(t, opts.snapshot).slice(0, 16)} ${existsSync(tarball) ? "(cached)" : "(not cached)"}`,
    `              ${tarball}`,
    `Hostname      ${t.hostname} (${t.hostname}.local)`,
    `Bootloader    ${t.bootloader.kind === "grub" ? `GRUB ${t.bootloader.platforms.join(" + ")}` : "Raspberry Pi firmware"}`,
    `Kernel args   ${t.kernelCmdline.join(" ")}`,
    `Overlays      ${t.overlays.join(", ")}`,
    `Units         ${t.units.join(" ")}`,
    `Packages      ${t.packages.join(" ")}`,
    `Output        ${opts.outDir}/freehold-${t.name}.img.${opts.compress === "xz" ? "xz" : "zst"} (${opts.compress}), .sha256, .bmap`,
    `Web app from  ${opts.webAppDir}/.next/standalone`,
    "Partitions (sfdisk script):",
    ...layout.split("\n").map((l) => (l ? `  ${l}` : l)),
  ].join("\n");
}
