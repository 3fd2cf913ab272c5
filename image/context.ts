/**
 * Build options (zod-validated at the boundary) and the BuildContext every stage receives:
 * the resolved target, workspace paths, and helpers to run tools and log progress.
 */
import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type RunOptions, type RunResult, run } from "./exec";
import { computeLayout, type Layout } from "./layout";
import type { Reporter } from "./log";
import { getTarget } from "./targets/index";
import { type Target, TargetName } from "./targets/schema";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_CACHE_DIR = "/var/cache/freehold-image";

export const BuildOptionsSchema = z.object({
  target: TargetName,
  outDir: z.string().min(1).default("dist"),
  compress: z.enum(["xz", "zstd"]).default("xz"),
  /** Bootstrap tarballs, rebuilt native addons and the workspace live here. */
  cacheDir: z.string().min(1).optional(),
  /** Where `npm run build` left .next/standalone (default: the repository root). */
  webAppDir: z.string().min(1).optional(),
  /** Pin the mirror to snapshot.debian.org at this time, e.g. 20260101T000000Z. */
  snapshot: z
    .string()
    .regex(/^\d{8}T\d{6}Z$/, "snapshot is YYYYMMDDTHHMMSSZ")
    .optional(),
  /** xz preset (0-9); the default keeps the build fast on 2 cores. */
  xzLevel: z.number().int().min(0).max(9).default(0),
  zstdLevel: z.number().int().min(1).max(19).default(10),
  /** Keep the workspace (rootfs, raw image) after a successful build. */
  keepWorkDir: z.boolean().default(false),
  /** Also publish the uncompressed image (freehold-<target>.img, sparse) beside the compressed one. */
  keepRaw: z.boolean().default(false),
});
export type BuildOptionsInput = z.input<typeof BuildOptionsSchema>;
export type BuildOptions = z.output<typeof BuildOptionsSchema>;

export interface ResolvedOptions extends BuildOptions {
  outDir: string;
  cacheDir: string;
  webAppDir: string;
  snapshot: string | undefined;
}

export function resolveOptions(
  input: BuildOptionsInput,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const o = BuildOptionsSchema.parse(input);
  const snapshot =
    o.snapshot ??
    (env.FREEHOLD_SNAPSHOT ? BuildOptionsSchema.shape.snapshot.parse(env.FREEHOLD_SNAPSHOT) : undefined);
  return {
    ...o,
    outDir: path.resolve(o.outDir),
    cacheDir: path.resolve(o.cacheDir ?? env.FREEHOLD_IMAGE_CACHE ?? DEFAULT_CACHE_DIR),
    webAppDir: path.resolve(o.webAppDir ?? REPO_ROOT),
    snapshot,
  };
}

/** Mirrors as apt source lines, pinned to snapshot.debian.org when a snapshot is set. */
export function aptSources(
  target: Target,
  snapshot?: string,
): { uri: string; suite: string; options: string }[] {
  const main = snapshot ? `http://snapshot.debian.org/archive/debian/${snapshot}/` : target.mirror;
  const sec = snapshot
    ? `http://snapshot.debian.org/archive/debian-security/${snapshot}/`
    : target.securityMirror;
  const options = snapshot ? "[check-valid-until=no]" : "";
  const s = [
    { uri: main, suite: target.suite, options },
    { uri: main, suite: `${target.suite}-updates`, options },
    { uri: sec, suite: `${target.suite}-security`, options },
  ];
  if (target.backports) s.push({ uri: main, suite: `${target.suite}-backports`, options });
  return s;
}

/** dpkg path filters applied while bootstrapping (docs, man pages, locales; copyright files kept). */
export const DPKG_FILTERS = [
  "path-exclude=/usr/share/man/*",
  "path-exclude=/usr/share/info/*",
  "path-exclude=/usr/share/doc/*",
  "path-include=/usr/share/doc/*/copyright",
  "path-exclude=/usr/share/locale/*",
  "path-include=/usr/share/locale/locale.alias",
  "path-exclude=/usr/share/lintian/*",
] as const;

/** Bump when the bootstrap recipe changes in a way the key would not see. */
const BOOTSTRAP_RECIPE = 6;

export function bootstrapKey(target: Target, snapshot?: string): string {
  const material = {
    recipe: BOOTSTRAP_RECIPE,
    suite: target.suite,
    arch: target.arch,
    variant: target.variant,
    components: target.components,
    sources: aptSources(target, snapshot),
    packages: [...target.packages].sort(),
    dpkg: DPKG_FILTERS,
    snapshot: snapshot ?? null,
  };
  return createHash("sha256").update(JSON.stringify(material)).digest("hex");
}

export interface BuildState {
  bootstrapCacheHit: boolean;
  kernelVersion?: string;
  /** Filesystem images by partition name. */
  fsImages: Record<string, string>;
  /** Bootloader pieces (core images etc.) by name. */
  bootFiles: Record<string, string>;
  rawImage?: string;
  rawAllocatedBytes?: number;
  published: string[];
  compressedBytes?: number;
  sha256?: string;
}

export interface BuildContext {
  target: Target;
  opts: ResolvedOptions;
  layout: Layout;
  repoRoot: string;
  /** cacheDir/work/<target>: rootfs, filesystem images, raw disk. */
  workDir: string;
  rootfs: string;
  /** Files to publish are assembled here, then moved into outDir at the end. */
  stagingDir: string;
  /** Boot partition contents before they become a FAT image. */
  bootDir: string;
  sourceDateEpoch: number;
  reporter: Reporter;
  step: Reporter["step"];
  info: Reporter["info"];
  log: WriteStream;
  state: BuildState;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Run a command inside the rootfs (qemu-user for arm64 through binfmt). */
  chroot(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export const CHROOT_ENV = {
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  LC_ALL: "C.UTF-8",
  DEBIAN_FRONTEND: "noninteractive",
  HOME: "/root",
} as const;

export function createContext(
  opts: ResolvedOptions,
  reporter: Reporter,
  sourceDateEpoch: number,
  target: Target = getTarget(opts.target),
): BuildContext {
  const workDir = path.join(opts.cacheDir, "work", opts.target);
  mkdirSync(workDir, { recursive: true });
  const log = createWriteStream(path.join(workDir, "build.log"), { flags: "w" });
  const ctx: BuildContext = {
    target,
    opts,
    layout: computeLayout(target),
    repoRoot: REPO_ROOT,
    workDir,
    rootfs: path.join(workDir, "rootfs"),
    stagingDir: path.join(opts.outDir, `.staging-${opts.target}`),
    bootDir: path.join(workDir, "boot"),
    sourceDateEpoch,
    reporter,
    step: reporter.step,
    info: reporter.info,
    log,
    state: { bootstrapCacheHit: false, fsImages: {}, bootFiles: {}, published: [] },
    run: (argv, o = {}) => {
      log.write(`$ ${argv.join(" ")}\n`);
      return run(argv, { log, ...o });
    },
    chroot: (argv, o = {}) => {
      log.write(`(chroot) $ ${argv.join(" ")}\n`);
      return run(["chroot", ctx.rootfs, ...argv], { log, ...o, env: { ...CHROOT_ENV, ...o.env } });
    },
  };
  return ctx;
}

/** Partition by role, e.g. the ESP or the firmware partition. */
export function partitionByRole(ctx: BuildContext, role: string) {
  return ctx.layout.partitions.find((p) => p.role === role);
}
