/**
 * Fetching Debian packages from a suite the host does not run, without touching the host's apt:
 * apt-get with its own sources, lists and cache in a temporary directory (the Release file's
 * signature checked against Debian's archive keyring, each package's hash against the signed
 * index), `apt-get download` (no install, no maintainer scripts), then `dpkg-deb -x`. Used for
 * trixie's static qemu-aarch64 (qemu-user.ts) and by tests for tools Debian 12 lacks (quadlet).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_CACHE_DIR } from "./context";
import { run } from "./exec";
import { DEBIAN_MIRROR } from "./targets/common";

export const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** apt options that give apt-get its own sources, lists and cache: the host's apt is not touched. */
export function privateAptOptions(dir: string): string[] {
  return [
    `-o=Dir::Etc::SourceList=${dir}/sources.list`,
    `-o=Dir::Etc::SourceParts=${dir}/sources.list.d`,
    `-o=Dir::State::Lists=${dir}/lists`,
    `-o=Dir::Cache=${dir}/cache`,
    "-o=Debug::NoLocking=true",
    "-o=APT::Sandbox::User=root",
    "-o=Acquire::Retries=3",
  ];
}

/** Downloads `packages` of `suite` into `dir`/deb with a private apt in `dir`; the .deb paths. */
export async function downloadDebs(
  dir: string,
  mirror: string,
  suite: string,
  packages: string[],
): Promise<string[]> {
  for (const d of ["sources.list.d", "lists/partial", "cache/archives/partial", "deb"])
    mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(`${dir}/sources.list`, `deb [signed-by=${KEYRING}] ${mirror} ${suite} main\n`);
  const apt = privateAptOptions(dir);
  const hint = `check the connection to ${mirror}`;
  await run(["apt-get", ...apt, "update"], { hint });
  await run(["apt-get", ...apt, "download", "--", ...packages], { cwd: `${dir}/deb`, hint });
  const debs = readdirSync(`${dir}/deb`).filter((f) => f.endsWith(".deb"));
  for (const pkg of packages) {
    if (!debs.some((f) => f.startsWith(`${pkg}_`)))
      throw new Error(`apt-get download ${pkg} produced no package`);
  }
  return debs.map((f) => path.join(dir, "deb", f));
}

/**
 * The packages' files extracted under one directory (cacheDir/debs/<suite>/<names>), fetched once:
 * a finished extraction is kept and reused. Returns that directory.
 */
export async function extractedDebs(
  cacheDir: string,
  mirror: string,
  suite: string,
  packages: string[],
): Promise<string> {
  const target = path.join(cacheDir, "debs", suite, [...packages].sort().join("+"));
  if (existsSync(path.join(target, ".complete"))) return target;
  mkdirSync(path.dirname(target), { recursive: true });
  const dir = mkdtempSync(path.join(path.dirname(target), ".fetch-"));
  try {
    const root = path.join(dir, "root");
    mkdirSync(root);
    for (const deb of await downloadDebs(dir, mirror, suite, packages))
      await run(["dpkg-deb", "-x", deb, root]);
    writeFileSync(path.join(root, ".complete"), `${packages.join(" ")}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(root, target);
    return target;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * extractedDebs from Debian's mirror into the image cache (FREEHOLD_IMAGE_CACHE, else the
 * builder's default), or a temporary one when that cannot be created (not root): tools for tests.
 */
export async function cachedDebs(suite: string, packages: string[]): Promise<string> {
  let dir = process.env.FREEHOLD_IMAGE_CACHE ?? DEFAULT_CACHE_DIR;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    dir = path.join(os.tmpdir(), "freehold-image-cache");
  }
  return extractedDebs(dir, DEBIAN_MIRROR, suite, packages);
}
