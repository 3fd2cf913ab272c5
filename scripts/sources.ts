/**
 * Content hashes of source trees, to tell whether a build output is still current: the web app's
 * standalone build, and the images built from it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export const REPO = path.resolve(import.meta.dirname, "..");

/** What the standalone web app is built from. */
export const WEB_APP_INPUTS = [
  "app",
  "prisma",
  "public",
  "scripts/server.ts",
  "scripts/compile-cache.ts",
  "scripts/finish-build.mjs",
  "scripts/bundle-compile-cache.mjs",
  "next.config.ts",
  "package-lock.json",
];

/** A hash of the files under `paths` as they are in the work tree (committed or not, not ignored). */
export function sourcesKey(paths: string[], salt = ""): string {
  const listed = spawnSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ...paths],
    {
      cwd: REPO,
      encoding: "utf8",
    },
  );
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const hash = createHash("sha256").update(`${salt}\n`);
  for (const file of listed.stdout.split("\0").filter(Boolean).sort()) {
    const full = path.join(REPO, file);
    if (!existsSync(full)) continue;
    hash.update(`${file}\0`).update(readFileSync(full)).update("\0");
  }
  return hash.digest("hex");
}

const WEB_APP_STAMP = path.join(REPO, ".next", "standalone", ".freehold-sources");

/** Runs `npm run build` unless .next/standalone was built from the current sources. */
export function ensureWebAppBuilt(log: (line: string) => void = console.error): void {
  const key = sourcesKey(WEB_APP_INPUTS, "web-app");
  if (existsSync(WEB_APP_STAMP) && readFileSync(WEB_APP_STAMP, "utf8").trim() === key) {
    log("web app: .next/standalone is current");
    return;
  }
  log("web app: building (npm run build)");
  const result = spawnSync("npm", ["run", "--silent", "build"], {
    cwd: REPO,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (result.status !== 0) throw new Error("npm run build failed; see the output above.");
  writeFileSync(WEB_APP_STAMP, `${key}\n`);
}

/** Everything that ends up in an image: the builder, the overlays and the web app's sources. */
export function imageInputsKey(target: string): string {
  return sourcesKey(["image", "overlays", ...WEB_APP_INPUTS], `image-${target}`);
}

function imageStamp(outDir: string, target: string): string {
  return path.join(outDir, `freehold-${target}.inputs`);
}

/** Records which inputs the image in outDir was built from. */
export function writeImageStamp(outDir: string, target: string): void {
  writeFileSync(imageStamp(outDir, target), `${imageInputsKey(target)}\n`);
}

/** Whether outDir holds an image of target built from the current inputs. */
export function imageIsCurrent(outDir: string, target: string): boolean {
  const stamp = imageStamp(outDir, target);
  const published = ["xz", "zst"].some((ext) =>
    existsSync(path.join(outDir, `freehold-${target}.img.${ext}`)),
  );
  return published && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === imageInputsKey(target);
}
