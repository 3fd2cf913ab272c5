import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { extractedDebs } from "../../../image/apt-fetch";
import { DEFAULT_CACHE_DIR } from "../../../image/context";
import { DEBIAN_MIRROR } from "../../../image/targets/common";

/**
 * Real tools for the node tests, fetched with a private apt (image/apt-fetch.ts) into the image
 * cache, never installed on the host: trixie's podman for /usr/libexec/podman/quadlet (Debian 12's
 * podman 4.3 has none), and tor from the host's own suite (trixie's needs glibc 2.38) with libevent
 * beside it, so `tor --verify-config` runs without a tor daemon on the host.
 */

function cacheDir(): string {
  const dir = process.env.FREEHOLD_IMAGE_CACHE ?? DEFAULT_CACHE_DIR;
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return dir;
  } catch {
    return path.join(os.tmpdir(), "freehold-image-cache");
  }
}

export type Tool = { path: string; env: Record<string, string> } | { skip: string };

async function fetchTool(suite: string, packages: string[], binary: string, libs = false): Promise<Tool> {
  try {
    const root = await extractedDebs(cacheDir(), DEBIAN_MIRROR, suite, packages);
    const env: Record<string, string> = libs
      ? {
          LD_LIBRARY_PATH: ["usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu"]
            .map((d) => path.join(root, d))
            .join(":"),
        }
      : {};
    return { path: path.join(root, binary), env };
  } catch (e) {
    return {
      skip: `could not download ${packages.join(", ")} from ${suite} (${(e as Error).message.split("\n")[0]})`,
    };
  }
}

export const quadletTool = () => fetchTool("trixie", ["podman"], "usr/libexec/podman/quadlet");

function hostSuite(): string {
  const release = readFileSync("/etc/os-release", "utf8");
  return /^VERSION_CODENAME=(\w+)/m.exec(release)?.[1] ?? "trixie";
}

export const torTool = () => fetchTool(hostSuite(), ["tor", "libevent-2.1-7"], "usr/bin/tor", true);

/** skopeo from the host's suite with gpgme beside it: reads and copies OCI archives (no daemon). */
export const skopeoTool = () => fetchTool(hostSuite(), ["skopeo", "libgpgme11"], "usr/bin/skopeo", true);
