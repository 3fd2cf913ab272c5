#!/usr/bin/env node
// Bundles freehold-agent (app/agent/main.ts) into one ESM file for the image's own Node.js:
// /opt/freehold/agent.mjs, run as root by freehold-agent.service. zod, the ollama client (model.pull;
// with whatwg-fetch, its browser polyfill, a no-op on Node 20's own fetch) and our code are inside
// it; nothing else from node_modules may be (no next, no native addon): the build fails if it is.
// node-pty (the web terminal's ptys, a native addon) stays external: agent.mjs imports it at run
// time from /opt/freehold/node_modules/node-pty, which the standalone build ships beside it.
// finish-build.mjs calls bundleAgent(); `node scripts/bundle-agent.mjs ENTRY OUTFILE` bundles
// another entry the same way (the tests bundle an agent with stand-in operations).
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

export async function bundleAgent({ entry = "app/agent/main.ts", outfile }) {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    external: ["node-pty"],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: "warning",
  });
  const allowed = ["node_modules/zod/", "node_modules/ollama/", "node_modules/whatwg-fetch/"];
  const foreign = Object.keys(result.metafile.inputs).filter(
    (p) => p.includes("node_modules/") && !allowed.some((a) => p.includes(a)),
  );
  if (foreign.length > 0) {
    throw new Error(
      `the agent bundle may take nothing but ${allowed.map((a) => a.slice(13, -1)).join(", ")} from node_modules, yet it pulled in: ${foreign.slice(0, 5).join(", ")}`,
    );
  }
  return outfile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [entry, outfile] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error("usage: node scripts/bundle-agent.mjs ENTRY OUTFILE");
    process.exit(2);
  }
  await bundleAgent({ entry, outfile });
}
