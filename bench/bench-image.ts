/**
 * Image build benchmark: builds a target cold (empty cache directory) and then warm (same cache),
 * and prints the time of every phase, the total, and the raw and compressed sizes.
 *
 *   npx tsx bench/bench-image.ts [--target amd64|arm64|rpi] [--compress xz|zstd] [--warm-only]
 *                                [--webapp DIR | --placeholder] [--cache DIR] [--out DIR]
 *
 * Targets on a 2-core machine: amd64 cold ≤ 4 min, warm ≤ 60 s; arm64 and rpi cold ≤ 12 min,
 * warm ≤ 2 min; compressed ≤ 400 MB. Exits 1 when a build fails or misses its target.
 */
import { existsSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildImage } from "../image/build";
import { REPO_ROOT } from "../image/context";
import { type BuildSummary, formatBytes, formatMs } from "../image/log";
import { createPlaceholderWebApp } from "../image/placeholder-webapp";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "amd64" },
    compress: { type: "string", default: "xz" },
    "warm-only": { type: "boolean", default: false },
    webapp: { type: "string" },
    placeholder: { type: "boolean", default: false },
    cache: { type: "string" },
    out: { type: "string" },
  },
});
const target = values.target as "amd64" | "arm64" | "rpi";
if (!["amd64", "arm64", "rpi"].includes(target)) throw new Error(`unknown target ${target}`);
const LIMITS = {
  amd64: { cold: 4 * 60_000, warm: 60_000 },
  arm64: { cold: 12 * 60_000, warm: 120_000 },
  rpi: { cold: 12 * 60_000, warm: 120_000 },
}[target];
const MAX_COMPRESSED = 400e6;

const cacheDir = path.resolve(values.cache ?? path.join("/var/cache/freehold-image-bench", target));
const outDir = path.resolve(values.out ?? path.join(os.tmpdir(), `freehold-bench-${target}`));
const webAppDir =
  values.webapp ??
  (!values.placeholder && existsSync(path.join(REPO_ROOT, ".next/standalone/server.cjs"))
    ? REPO_ROOT
    : createPlaceholderWebApp(path.join(os.tmpdir(), "freehold-bench-webapp")));

async function one(kind: "cold" | "warm"): Promise<BuildSummary> {
  if (kind === "cold") rmSync(cacheDir, { recursive: true, force: true });
  console.log(`\n=== ${target} ${kind} build (cache ${cacheDir}, web app ${webAppDir}) ===`);
  return buildImage({ target, outDir, compress: values.compress as "xz" | "zstd", cacheDir, webAppDir });
}

const results: [string, BuildSummary][] = [];
let failed = false;
try {
  if (!values["warm-only"]) results.push(["cold", await one("cold")]);
  results.push(["warm", await one("warm")]);
} catch (e) {
  console.error(
    `build failed: ${(e as Error).message}${(e as { hint?: string }).hint ? `\nhint: ${(e as { hint?: string }).hint}` : ""}`,
  );
  failed = true;
}

console.log(`\n=== benchmark: ${target}, ${os.cpus().length} CPUs, ${values.compress} ===`);
const phases = [...new Set(results.flatMap(([, s]) => s.phases.map((p) => p.name)))];
console.log(["phase".padEnd(16), ...results.map(([k]) => k.padStart(12))].join(""));
for (const p of phases)
  console.log(
    [
      p.padEnd(16),
      ...results.map(([, s]) => formatMs(s.phases.find((x) => x.name === p)?.ms ?? 0).padStart(12)),
    ].join(""),
  );
console.log(["total".padEnd(16), ...results.map(([, s]) => formatMs(s.totalMs).padStart(12))].join(""));
for (const [kind, s] of results) {
  const limit = LIMITS[kind as "cold" | "warm"];
  const ok = s.totalMs <= limit && s.compressedBytes <= MAX_COMPRESSED;
  if (!ok) failed = true;
  console.log(
    `${kind}: ${formatMs(s.totalMs)} (target ≤ ${formatMs(limit)}), raw ${formatBytes(s.rawBytes)} (${formatBytes(s.rawAllocatedBytes)} allocated), compressed ${formatBytes(s.compressedBytes)} (${(s.compressedBytes / 1e6).toFixed(0)} MB, target ≤ 400 MB) ${ok ? "OK" : "MISSED"}`,
  );
}
process.exit(failed ? 1 : 0);
