/**
 * QEMU needs the raw image; the builder publishes it compressed. Decompress once per image
 * checksum into a cache outside the repository, so repeated boots of the same build are instant.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { run } from "../exec";

export const RAW_CACHE = process.env.FREEHOLD_VM_CACHE ?? "/var/cache/freehold-vm";

/** The published image for a target in distDir: .img.xz or .img.zst, with its .sha256 beside it. */
export function publishedImage(distDir: string, target: string): { file: string; sha256: string } {
  for (const ext of ["xz", "zst"]) {
    const file = path.join(distDir, `freehold-${target}.img.${ext}`);
    if (!existsSync(file)) continue;
    const sumFile = `${file}.sha256`;
    const sha256 = existsSync(sumFile) ? (readFileSync(sumFile, "utf8").split(/\s+/)[0] ?? "") : "";
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new Error(
        `${sumFile} is missing or malformed; rebuild with freehold image build --target ${target}.`,
      );
    }
    return { file, sha256 };
  }
  throw new Error(`No image for ${target} in ${distDir}. Build it: freehold image build --target ${target}.`);
}

/** Path of the decompressed raw image, decompressing (sparsely) on first use. Keeps the 4 newest. */
export async function rawImage(distDir: string, target: string, cacheDir = RAW_CACHE): Promise<string> {
  const { file, sha256 } = publishedImage(distDir, target);
  mkdirSync(cacheDir, { recursive: true });
  const raw = path.join(cacheDir, `${target}-${sha256.slice(0, 16)}.img`);
  if (existsSync(raw)) return raw;
  const partial = `${raw}.partial`;
  const decompress = file.endsWith(".zst") ? ["zstd", "-dc", "--", file] : ["xz", "-dc", "-T0", "--", file];
  await run(decompress, { stdoutFile: partial });
  // Give the zero runs back to the filesystem: a 3 GB image is mostly empty.
  await run(["fallocate", "--dig-holes", "--", partial]).catch(() => undefined);
  renameSync(partial, raw);
  pruneCache(cacheDir, target, 4);
  return raw;
}

function pruneCache(cacheDir: string, target: string, keep: number): void {
  const ours = readdirSync(cacheDir)
    .filter((name) => name.startsWith(`${target}-`) && name.endsWith(".img"))
    .map((name) => path.join(cacheDir, name));
  if (ours.length <= keep) return;
  ours.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of ours.slice(keep)) rmSync(old, { force: true });
}
