import { createHash } from "node:crypto";
import { type Arch, type Release, ReleaseSchema } from "../../_schemas/catalog";

/**
 * Upstream release tarballs, pinned per architecture by SHA-256: the one place for their versions,
 * URLs and hashes.
 *
 * Ollama's official Linux build (the same tarball its install.sh fetches): bin/ollama plus
 * lib/ollama with the CPU variants and the CUDA libraries, so an NVIDIA GPU with its driver needs no
 * other download. The hashes below are PLACEHOLDERS (sha256 of the URL), not the release files':
 * GitHub is not reachable from here. Whoever can download the release records
 * `sha256sum ollama-linux-<arch>.tgz` (and checks it against the release's sha256sum.txt), then
 * flips hashStatus to "verified"; the agent refuses placeholder hashes, as it refuses placeholder
 * image digests.
 */

const OLLAMA_VERSION = "0.12.6";
const OLLAMA_URL = "https://github.com/ollama/ollama/releases/download/v{version}/ollama-linux-{arch}.tgz";

/** A stand-in hash derived from the URL: visibly not the file's, and stable. */
function placeholder(pattern: string, version: string, arch: Arch) {
  const url = releaseUrlOf(pattern, version, arch);
  return { sha256: createHash("sha256").update(url).digest("hex"), hashStatus: "placeholder" as const };
}

export function releaseUrlOf(pattern: string, version: string, arch: Arch): string {
  return pattern.replaceAll("{version}", version).replaceAll("{arch}", arch);
}

export const RELEASES = {
  ollama: ReleaseSchema.parse({
    name: "ollama",
    version: OLLAMA_VERSION,
    urlPattern: OLLAMA_URL,
    files: {
      amd64: placeholder(OLLAMA_URL, OLLAMA_VERSION, "amd64"),
      arm64: placeholder(OLLAMA_URL, OLLAMA_VERSION, "arm64"),
    },
    source: "https://github.com/ollama/ollama/releases",
  }),
} as const satisfies Record<string, Release>;

export const releaseUrl = (release: Release, arch: Arch) =>
  releaseUrlOf(release.urlPattern, release.version, arch);
