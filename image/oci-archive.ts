import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

/**
 * A deterministic OCI image archive ("oci-archive": a tar of an OCI image layout, as `podman save
 * --format oci-archive` writes and `podman load` reads), built in memory from a list of files:
 *
 *   oci-layout                     {"imageLayoutVersion":"1.0.0"}
 *   index.json                     one manifest descriptor, named by org.opencontainers.image.ref.name
 *   blobs/sha256/<manifest>        the image manifest (this digest is the image's pin)
 *   blobs/sha256/<config>          the image config (entrypoint, ports, diff_ids)
 *   blobs/sha256/<layer>           one gzip-compressed tar layer
 *
 * Same input, same bytes: tar headers carry mtime 0, uid/gid 0 and no user names; JSON is written
 * with a fixed key order; the config has no "created" time; the gzip header has no time and no
 * name (Node's zlib at level 9: the same Node gives the same bytes; the digest to pin is returned
 * with the archive, so nothing depends on another zlib compressing alike).
 *
 * Why an oci-archive and not a docker-archive: the manifest is part of the archive, and podman
 * copies it into its storage unchanged (as for a registry pull), so the digest podman reports after
 * `podman load` is the sha256 of the manifest blob here. A docker-archive has no manifest; podman
 * makes one up on load, and its digest is podman's, not ours. Why gzip: an uncompressed layer is
 * compressed by destinations that want compressed layers (skopeo copy to an oci: directory did),
 * which rewrites the manifest; a gzip layer is what a registry serves, and every copy keeps it.
 */

export interface TarEntry {
  /** Relative path; directories end with "/". */
  path: string;
  mode: number;
  /** File content (absent for a directory). */
  content?: Buffer;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(entry: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const dir = entry.path.endsWith("/");
  const name = Buffer.from(entry.path, "utf8");
  if (name.length > 100) throw new Error(`tar path too long for ustar: ${entry.path}`);
  name.copy(h, 0);
  h.write(octal(entry.mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(dir ? 0 : (entry.content?.length ?? 0), 12), 124, "ascii");
  h.write(octal(0, 12), 136, "ascii"); // mtime
  h.write("        ", 148, "ascii"); // checksum, as spaces while summing
  h.write(dir ? "5" : "0", 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(octal(0, 8), 329, "ascii"); // devmajor
  h.write(octal(0, 8), 337, "ascii"); // devminor
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

/** A ustar archive of the entries, in the order given. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry));
    if (!entry.path.endsWith("/") && entry.content) {
      parts.push(entry.content);
      const pad = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** Reads back a ustar archive written by tarArchive (tests, and checking an archive's layout). */
export function readTar(tar: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      h
        .subarray(start, start + len)
        .toString("utf8")
        .replace(/\0.*$/s, "");
    const size = Number.parseInt(field(124, 12), 8);
    const path = field(0, 100);
    const mode = Number.parseInt(field(100, 8), 8);
    at += BLOCK;
    if (field(156, 1) === "5") out.push({ path, mode });
    else out.push({ path, mode, content: Buffer.from(tar.subarray(at, at + size)) });
    at += Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

export const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

export interface OciImageSpec {
  /** The name podman gives the loaded image (index.json's org.opencontainers.image.ref.name). */
  refName: string;
  architecture: "amd64" | "arm64";
  /** The root file system (one layer). */
  files: readonly TarEntry[];
  entrypoint: string[];
  exposedPorts?: string[];
  workingDir?: string;
}

export interface OciArchive {
  /** The oci-archive tar. */
  archive: Buffer;
  /** sha256 of the manifest blob: what podman reports as the image's Digest, and the pin. */
  digest: string;
  manifest: Buffer;
  config: Buffer;
  /** The layer as stored (gzip) and its tar (whose digest is the config's diff_id). */
  layer: Buffer;
  layerTar: Buffer;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");

export function buildOciArchive(spec: OciImageSpec): OciArchive {
  const layerTar = tarArchive(spec.files);
  const layer = gzipSync(layerTar, { level: 9 });
  const config = json({
    architecture: spec.architecture,
    os: "linux",
    config: {
      Entrypoint: spec.entrypoint,
      ...(spec.exposedPorts
        ? { ExposedPorts: Object.fromEntries(spec.exposedPorts.map((p) => [p, {}])) }
        : {}),
      WorkingDir: spec.workingDir ?? "/",
    },
    rootfs: { type: "layers", diff_ids: [sha256(layerTar)] },
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: sha256(config), size: config.length },
    layers: [{ mediaType: MEDIA.layer, digest: sha256(layer), size: layer.length }],
  });
  const digest = sha256(manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [
      {
        mediaType: MEDIA.manifest,
        digest,
        size: manifest.length,
        annotations: { "org.opencontainers.image.ref.name": spec.refName },
      },
    ],
  });
  const blob = (data: Buffer): TarEntry => ({
    path: `blobs/sha256/${sha256(data).slice("sha256:".length)}`,
    mode: 0o644,
    content: data,
  });
  const archive = tarArchive([
    { path: "oci-layout", mode: 0o644, content: json({ imageLayoutVersion: "1.0.0" }) },
    { path: "index.json", mode: 0o644, content: index },
    { path: "blobs/", mode: 0o755 },
    { path: "blobs/sha256/", mode: 0o755 },
    blob(manifest),
    blob(config),
    blob(layer),
  ]);
  return { archive, digest, manifest, config, layer, layerTar };
}
