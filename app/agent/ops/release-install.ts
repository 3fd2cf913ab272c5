import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import type { Arch, Release } from "../../_schemas/catalog";
import { releaseUrl } from "../../lib/catalog/releases";
import {
  addSample,
  describeTransfer,
  type Sample,
  shouldReport,
  transferStats,
} from "../../lib/transfer/rate";
import { type Host, OpError } from "../host";

/**
 * Installing an upstream release tarball pinned by SHA-256 (Ollama): download into a root-only
 * cache while hashing, compare with the pinned hash BEFORE anything is extracted (a mismatch
 * removes the download and fails, naming both hashes), extract into a staging directory, and move
 * it into place in one rename. Installed at <root>/opt/<name>/<version>, with a marker holding the
 * hash so a second run sees it is done. `root` is "/" on the box and a temp directory in tests.
 */

/** Fetches url into dest, reporting bytes; resolves with the SHA-256 (hex) of what it wrote. */
export type Downloader = (
  url: string,
  dest: string,
  progress: (doneBytes: number, totalBytes: number | null) => void,
) => Promise<string>;

export const realDownload: Downloader = async (url, dest, progress) => {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(60 * 60_000) });
  } catch (e) {
    throw new OpError(`could not download ${url}: ${(e as Error).message}`);
  }
  if (!res.ok || !res.body) throw new OpError(`could not download ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get("content-length")) || null;
  const hash = createHash("sha256");
  const file = await fs.open(dest, "w", 0o600);
  let done = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      await file.write(chunk);
      done += chunk.length;
      progress(done, total);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return hash.digest("hex");
};

export const releasePrefix = (release: Release, root = "/") =>
  `${root.replace(/\/$/, "")}/opt/${release.name}/${release.version}`;
export const MARKER = ".freehold-sha256";

export interface ReleaseInstall {
  release: Release;
  arch: Arch;
  root?: string;
  download: Downloader;
  now?: () => number;
}

/** Refuses a hash the catalog has not verified. */
export function pinnedHash(release: Release, arch: Arch): string {
  const file = release.files[arch];
  if (file.hashStatus !== "verified") {
    throw new OpError(
      `the pinned SHA-256 of ${release.name} ${release.version} for ${arch} is a placeholder, not the release file's: refusing to install an unverified download`,
      `Download ${releaseUrl(release, arch)} on a trusted machine, check it against the release's checksums, record its SHA-256 in app/lib/catalog/releases.ts with hashStatus "verified", and update Freehold.`,
    );
  }
  return file.sha256;
}

/** true when it installed, false when that version with that hash was already there. */
export async function installRelease(host: Host, opts: ReleaseInstall): Promise<boolean> {
  const { release, arch } = opts;
  const root = (opts.root ?? "/").replace(/\/$/, "");
  const expected = pinnedHash(release, arch);
  const prefix = releasePrefix(release, root || "/");
  const binary = `${prefix}/bin/${release.name}`;
  if ((await host.readFile(`${prefix}/${MARKER}`))?.trim() === expected && (await host.exists(binary)))
    return false;

  const url = releaseUrl(release, arch);
  const cache = `${root}/var/cache/freehold`;
  await host.run(["install", "-d", "-m", "0700", "--", cache]);
  const tarball = `${cache}/${release.name}-${release.version}-${arch}.download`;
  const now = opts.now ?? Date.now;
  let samples: Sample[] = [];
  let last: number | null = null;
  host.progress(`downloading ${url}`);
  let actual: string;
  try {
    actual = await opts.download(url, tarball, (done, total) => {
      const t = now();
      samples = addSample(samples, { atMs: t, bytes: done });
      if (!shouldReport(last, t, total !== null && done >= total)) return;
      last = t;
      const stats = transferStats(samples, total);
      host.progress(`${release.name} ${release.version}: ${describeTransfer(stats)}`, stats);
    });
  } catch (e) {
    await host.removeFile(tarball);
    throw e;
  }
  if (actual !== expected) {
    await host.removeFile(tarball);
    throw new OpError(
      `the download of ${url} does not match its pinned SHA-256 (expected ${expected}, got ${actual}); it was deleted and nothing was installed`,
      "Retry later; if it keeps failing, the release file changed upstream: check the pinned hash in app/lib/catalog/releases.ts.",
    );
  }

  const staging = `${root}/opt/${release.name}/.${release.version}.partial`;
  await host.run(["rm", "-rf", "--", staging]);
  await host.run(["install", "-d", "-m", "0755", "--", staging]);
  try {
    // GNU tar refuses members with ".." and strips leading "/": nothing lands outside staging.
    await host.run(["tar", "-xzf", tarball, "-C", staging, "--no-same-owner"], { timeoutMs: 30 * 60_000 });
    if (!(await host.exists(`${staging}/bin/${release.name}`)))
      throw new OpError(`the ${release.name} release holds no bin/${release.name}`);
    await host.writeFile(`${staging}/${MARKER}`, `${expected}\n`, 0o644);
    await host.run(["rm", "-rf", "--", prefix]);
    await host.run(["mv", "-T", "--", staging, prefix]);
  } catch (e) {
    await host.run(["rm", "-rf", "--", staging]);
    throw e;
  } finally {
    await host.removeFile(tarball);
  }
  return true;
}
