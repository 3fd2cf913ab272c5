#!/usr/bin/env node
// Completes `next build` into a self-contained .next/standalone: our server bundled as
// server.cjs (next and the native addons stay external; the traced node_modules has them, node-pty
// through next.config.ts's outputFileTracingIncludes; ws is bundled), its code-cache preload as
// compile-cache.cjs (the image build records the cache itself), freehold-agent bundled as
// agent.mjs (zod inside; only node-pty external, loaded from the same node_modules), plus the static
// assets and public files that Next leaves outside the standalone folder.
import { cpSync, existsSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { bundleAgent } from "./bundle-agent.mjs";
import { bundleCompileCache } from "./bundle-compile-cache.mjs";

const out = ".next/standalone";
if (!existsSync(out)) {
  console.error("finish-build: .next/standalone is missing; run `next build` first (npm run build does).");
  process.exit(1);
}
await build({
  entryPoints: ["scripts/server.ts"],
  outfile: `${out}/server.cjs`,
  bundle: true,
  platform: "node",
  target: "node20",
  // CommonJS, so that the code cache covers the server itself (V8's cache in Node 20 serves
  // CommonJS only) and Node starts without its ES module loader; import() becomes require(), since
  // cached code cannot make dynamic imports (app/lib/runtime/compile-cache.ts).
  format: "cjs",
  supported: { "dynamic-import": false },
  external: ["next", "better-sqlite3", "node-pty"],
  logLevel: "warning",
});
rmSync(`${out}/server.mjs`, { force: true });
await bundleCompileCache({ outfile: `${out}/compile-cache.cjs` });
await bundleAgent({ entry: "app/agent/main.ts", outfile: `${out}/agent.mjs` });
rmSync(`${out}/.next/static`, { recursive: true, force: true });
cpSync(".next/static", `${out}/.next/static`, { recursive: true });
rmSync(`${out}/public`, { recursive: true, force: true });
cpSync("public", `${out}/public`, { recursive: true });
// node-pty's addon is what the terminal needs at run time, for server.cjs and agent.mjs alike.
for (const file of ["node_modules/node-pty/package.json", "node_modules/node-pty/build/Release/pty.node"]) {
  if (!existsSync(`${out}/${file}`)) {
    console.error(`finish-build: ${out}/${file} is missing (next.config.ts traces it; run build-native.mjs)`);
    process.exit(1);
  }
}
rmSync(`${out}/prisma/migrations`, { recursive: true, force: true });
cpSync("prisma/migrations", `${out}/prisma/migrations`, { recursive: true });
// Next's server trace always carries sharp for image optimization, which the app turns off
// (images.unoptimized): a native addon for the build host only, so the arm64 image could not use it.
for (const unused of ["node_modules/sharp", "node_modules/@img"]) {
  rmSync(`${out}/${unused}`, { recursive: true, force: true });
}
console.log(
  `finish-build: ${out} is ready (node --require ./compile-cache.cjs server.cjs; node agent.mjs for freehold-agent)`,
);
