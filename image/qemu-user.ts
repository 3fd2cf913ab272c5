/**
 * The qemu-user that runs arm64 maintainer scripts during a foreign build. Bookworm's
 * qemu-user-static (7.2) runs them 2–3.5× slower than trixie's (10.0) — Python byte-compilation,
 * xz, the initramfs — and that is most of a cold arm64 build. On a host whose qemu is older than
 * MIN_MAJOR the builder fetches trixie's qemu-user with apt (Release signature checked against
 * Debian's archive keyring, package hash against the signed index), keeps its static qemu-aarch64
 * in the build cache and registers that. Nothing of it goes into the image.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { downloadDebs } from "./apt-fetch";
import { capture, run } from "./exec";

export const HOST_QEMU_AARCH64 = "/usr/bin/qemu-aarch64-static";
export const MIN_MAJOR = 9;
const SUITE = "trixie";

/** "qemu-aarch64 version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)" → 10. */
export function qemuMajor(versionOutput: string): number | null {
  const m = /version (\d+)\.\d+/.exec(versionOutput);
  return m ? Number(m[1]) : null;
}

export async function qemuVersion(binary: string): Promise<string | null> {
  if (!existsSync(binary)) return null;
  try {
    return (await capture([binary, "--version"])).split("\n")[0] ?? null;
  } catch {
    return null;
  }
}

export function cachedQemuPath(cacheDir: string): string {
  return path.join(cacheDir, "qemu-user", SUITE, "qemu-aarch64");
}

export { privateAptOptions } from "./apt-fetch";

/** Download trixie's qemu-user and keep its static qemu-aarch64 at cachedQemuPath(cacheDir). */
export async function fetchQemuUser(cacheDir: string, mirror: string): Promise<string> {
  const target = cachedQemuPath(cacheDir);
  mkdirSync(path.dirname(target), { recursive: true });
  const dir = mkdtempSync(path.join(path.dirname(target), ".fetch-"));
  try {
    const deb = (await downloadDebs(dir, mirror, SUITE, ["qemu-user"]))[0];
    if (!deb) throw new Error("apt-get download qemu-user produced no package");
    await run(["dpkg-deb", "--fsys-tarfile", deb], { stdoutFile: `${dir}/data.tar` });
    await run(["tar", "-xf", `${dir}/data.tar`, "-C", dir, "./usr/bin/qemu-aarch64"]);
    chmodSync(`${dir}/usr/bin/qemu-aarch64`, 0o755);
    const major = qemuMajor((await qemuVersion(`${dir}/usr/bin/qemu-aarch64`)) ?? "");
    if (major === null || major < MIN_MAJOR) throw new Error(`the fetched qemu-aarch64 is not ${MIN_MAJOR}+`);
    renameSync(`${dir}/usr/bin/qemu-aarch64`, target);
    return target;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface QemuChoice {
  interpreter: string;
  version: string;
  /** Why this one: the host's is new enough, the cached or fetched trixie one, or a slow fallback. */
  source: "host" | "cache" | "fetched" | "host-fallback";
  warning?: string;
}

/** The fastest qemu-aarch64 available: the host's if new enough, else trixie's from the cache or apt. */
export async function chooseQemuUser(cacheDir: string, mirror: string): Promise<QemuChoice> {
  const hostVersion = await qemuVersion(HOST_QEMU_AARCH64);
  if (hostVersion && (qemuMajor(hostVersion) ?? 0) >= MIN_MAJOR)
    return { interpreter: HOST_QEMU_AARCH64, version: hostVersion, source: "host" };
  const cached = cachedQemuPath(cacheDir);
  const cachedVersion = await qemuVersion(cached);
  if (cachedVersion && (qemuMajor(cachedVersion) ?? 0) >= MIN_MAJOR)
    return { interpreter: cached, version: cachedVersion, source: "cache" };
  try {
    const fetched = await fetchQemuUser(cacheDir, mirror);
    return { interpreter: fetched, version: (await qemuVersion(fetched)) ?? "?", source: "fetched" };
  } catch (e) {
    if (!hostVersion) throw e;
    return {
      interpreter: HOST_QEMU_AARCH64,
      version: hostVersion,
      source: "host-fallback",
      warning: `could not fetch qemu-user from ${SUITE} (${(e as Error).message.split("\n")[0]}); the host's older qemu works but a cold arm64 build takes about 1.5× longer`,
    };
  }
}
