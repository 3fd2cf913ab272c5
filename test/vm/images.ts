/**
 * Images for the VM tests: reuse dist/freehold-<target>.img.* when it was built from the same
 * inputs (the builder, the overlays and the web app's sources), otherwise build it.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { rawImage } from "../../image/vm/raw";
import { imageIsCurrent, REPO } from "../../scripts/sources";

export const DIST = process.env.FREEHOLD_IMAGE_DIR ?? path.join(REPO, "dist");

/** The raw image of a target, built first when its inputs changed since the last build. */
export async function imageFor(target: "amd64" | "arm64"): Promise<string> {
  if (imageIsCurrent(DIST, target)) {
    console.log(`[vm] reusing the ${target} image built from identical inputs`);
  } else {
    const started = Date.now();
    const argv = ["scripts/freehold.mjs", "image", "build", "--target", target, "--out", DIST];
    console.log(`[vm] building the ${target} image: freehold ${argv.slice(1).join(" ")}`);
    const result = spawnSync(process.execPath, argv, { cwd: REPO, stdio: ["ignore", "inherit", "inherit"] });
    if (result.status !== 0)
      throw new Error(`freehold image build --target ${target} failed (exit ${result.status}).`);
    console.log(`[vm] ${target} image built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return rawImage(DIST, target);
}
