import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type LocalNodesFile, LocalNodesFileSchema } from "../app/_schemas/catalog";
import { cachedDebs } from "./apt-fetch";
import { buildOciArchive, type OciArchive } from "./oci-archive";

/**
 * "hello-web": the smallest real OCI node, for tests of local nodes (an image loaded from an
 * archive on the box, no registry). One layer: Debian's static busybox and an index.html; the
 * entrypoint is `busybox httpd -f -p 8080 -h /www`, which answers GET / with 200. Built
 * deterministically (image/oci-archive.ts): the same busybox gives the same manifest digest.
 *
 * busybox comes from Debian's busybox-static package, fetched with a private apt into the image
 * cache (image/apt-fetch.ts, signatures checked) and extracted with dpkg-deb: nothing is
 * installed on the host. It is the host's architecture, so the image runs on a guest of the same
 * architecture (the amd64 VM tests on an amd64 host).
 */

export const HELLO_WEB = {
  id: "hello-web",
  image: "localhost/freehold/hello-web",
  tag: "1",
  port: 8080,
  /** Where the VM test puts the archive on the box (any absolute path on the root file system). */
  guestArchive: "/var/lib/freehold-local/hello-web.oci.tar",
} as const;

export const INDEX_HTML =
  "<!doctype html>\n<title>hello-web</title>\n<p>Hello from a Freehold local node.</p>\n";

/** The Debian suite busybox-static comes from. */
export const BUSYBOX_SUITE = "trixie";

export function hostArch(): "amd64" | "arm64" {
  if (process.arch === "x64") return "amd64";
  if (process.arch === "arm64") return "arm64";
  throw new Error(`no Debian busybox for ${process.arch}`);
}

/** The path of Debian's static busybox (fetched once into the image cache). */
export async function busyboxStatic(): Promise<string> {
  const root = await cachedDebs(BUSYBOX_SUITE, ["busybox-static"]);
  return path.join(root, "usr", "bin", "busybox");
}

/** The image, from a busybox binary's bytes. Deterministic. */
export function helloWebImage(busybox: Buffer, architecture = hostArch()): OciArchive {
  return buildOciArchive({
    refName: `${HELLO_WEB.image}:${HELLO_WEB.tag}`,
    architecture,
    files: [
      { path: "bin/", mode: 0o755 },
      { path: "bin/busybox", mode: 0o755, content: busybox },
      { path: "data/", mode: 0o755 },
      { path: "etc/", mode: 0o755 },
      { path: "tmp/", mode: 0o1777 },
      { path: "www/", mode: 0o755 },
      { path: "www/index.html", mode: 0o644, content: Buffer.from(INDEX_HTML) },
    ],
    entrypoint: ["/bin/busybox", "httpd", "-f", "-v", "-p", String(HELLO_WEB.port), "-h", "/www"],
    exposedPorts: [`${HELLO_WEB.port}/tcp`],
  });
}

/**
 * Builds the archive at `out` (busybox fetched unless given); returns its path and the manifest
 * digest to pin.
 */
export async function buildHelloWebArchive(
  out: string,
  options: { busybox?: string } = {},
): Promise<{ archivePath: string; digest: string }> {
  const busybox = readFileSync(options.busybox ?? (await busyboxStatic()));
  const image = helloWebImage(busybox);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, image.archive);
  return { archivePath: out, digest: image.digest };
}

/**
 * The local-nodes.json entry for hello-web: `archivePath` is where the archive lies on the box
 * (absolute), `digest` the manifest digest buildHelloWebArchive returned.
 */
export function localNodeEntry(opts: {
  archivePath: string;
  digest: string;
}): LocalNodesFile["nodes"][number] {
  const source = "https://busybox.net/ — a test node: busybox httpd serving one page";
  return {
    id: HELLO_WEB.id,
    name: "Hello web",
    category: "network",
    summary: "A one-page web server (busybox httpd) from an image archive on this box.",
    heavy: false,
    origin: "local",
    install: [
      {
        kind: "oci",
        image: HELLO_WEB.image,
        tag: HELLO_WEB.tag,
        digest: opts.digest,
        digestStatus: "verified",
        source,
        archive: opts.archivePath,
        mount: "/data",
      },
    ],
    health: [{ kind: "http", port: HELLO_WEB.port, path: "/", expectStatus: 200 }],
    ports: [{ port: HELLO_WEB.port, protocol: "tcp", exposure: "lan", purpose: "the page" }],
    architectures: [hostArch()],
    dependsOn: [],
    modes: [
      {
        id: "default",
        summary: "serves one page",
        needs: {
          cpuCores: 0.1,
          ramBytes: 5e6,
          diskBytes: 5e6,
          diskGrowthBytesPerYear: 0,
          wantsSsd: false,
          averageCpuLoad: 0,
        },
        sources: { cpu: source, ram: source, disk: source },
      },
    ],
    dataDirs: ["/var/lib/hello-web"],
    backup: [{ path: "/var/lib/hello-web", why: "nothing in it; a test node" }],
  };
}

/** The whole local-nodes.json with hello-web, checked by the schema the box reads it with. */
export function localNodesJson(opts: { archivePath: string; digest: string }): string {
  const file = LocalNodesFileSchema.parse({ nodes: [localNodeEntry(opts)] });
  return `${JSON.stringify(file, null, 2)}\n`;
}
