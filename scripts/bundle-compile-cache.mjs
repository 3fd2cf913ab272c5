#!/usr/bin/env node
// Bundles freehold-web's code-cache preload (scripts/compile-cache.ts) into one CommonJS file with
// no dependencies: /opt/freehold/compile-cache.cjs, which the unit passes to node --require.
// finish-build.mjs calls it; the unit tests bundle it into a scratch directory the same way.
import { build } from "esbuild";

export async function bundleCompileCache({ outfile }) {
  const result = await build({
    entryPoints: ["scripts/compile-cache.ts"],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    metafile: true,
    logLevel: "warning",
  });
  const foreign = Object.keys(result.metafile.inputs).filter((p) => p.includes("node_modules/"));
  if (foreign.length > 0)
    throw new Error(`the code-cache preload must not load packages, yet it pulled in: ${foreign.join(", ")}`);
  return outfile;
}
