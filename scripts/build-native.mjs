#!/usr/bin/env node
// Compiles the native addons we depend on with node-gyp against this machine's Node headers.
// Their own install scripts are denied in package.json (allowScripts): they would first try to
// download a prebuilt binary from outside the npm registry.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const ADDONS = [
  { name: "better-sqlite3", binary: "build/Release/better_sqlite3.node" },
  // The web terminal's pseudo-terminals (Node-API, so one build serves every Node 20+ ABI).
  { name: "node-pty", binary: "build/Release/pty.node" },
];

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const prefix = path.dirname(path.dirname(process.execPath));
  return path.join(prefix, "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
}

// Compile against the installed headers: node-gyp's default is to download them.
function nodeDirArgs() {
  const dir = process.env.npm_config_nodedir || (existsSync("/usr/include/node/node_api.h") ? "/usr" : "");
  return dir ? [`--nodedir=${dir}`] : [];
}

function loads(file) {
  try {
    require(file);
    return true;
  } catch {
    return false;
  }
}

for (const addon of ADDONS) {
  const dir = path.dirname(require.resolve(`${addon.name}/package.json`));
  const binary = path.join(dir, addon.binary);
  if (existsSync(binary) && loads(binary)) continue;
  console.log(`build-native: compiling ${addon.name} with node-gyp (about a minute)`);
  const result = spawnSync(process.execPath, [nodeGyp(), "rebuild", "--release", ...nodeDirArgs()], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0 || !loads(binary)) {
    process.stderr.write(`${result.stdout}\n${result.stderr}\n`);
    console.error(
      `build-native: ${addon.name} failed to compile. Install python3, make and g++ ` +
        "(sudo scripts/bootstrap does), then run `node scripts/build-native.mjs`.",
    );
    process.exit(1);
  }
}
