/**
 * Install the web app (Next.js standalone output, with freehold-agent bundled beside it as agent.mjs)
 * under /opt/freehold, and make its native addons
 * (better-sqlite3, ...) fit the target: host-built addons serve amd64 as they are (trixie's
 * nodejs 20 has the same ABI); for arm64 they are cross-compiled from the package sources in
 * node_modules, cached by name, version, arch and Node ABI, then loaded once in the chroot.
 * Last, the server runs once in the chroot to record its V8 code cache (image/compile-cache.ts).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { recordCompileCache } from "../compile-cache";
import type { BuildContext } from "../context";
import { capture } from "../exec";
import { die } from "../log";

export const WEBAPP_DIR = "/opt/freehold";

export function webAppMissingHint(dir: string): string {
  return `run \`npm run build\` in ${dir} first (it writes .next/standalone/server.cjs, compile-cache.cjs and agent.mjs)`;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The package a file belongs to: nearest package.json with a name. */
function owningPackage(file: string, stop: string): { dir: string; name: string; version: string } | null {
  let d = path.dirname(file);
  while (d.startsWith(stop) && d !== stop) {
    const pj = path.join(d, "package.json");
    if (existsSync(pj)) {
      const j = JSON.parse(readFileSync(pj, "utf8"));
      if (j.name && j.version) return { dir: d, name: j.name, version: j.version };
    }
    d = path.dirname(d);
  }
  return null;
}

export async function installWebApp(ctx: BuildContext): Promise<void> {
  const src = ctx.opts.webAppDir;
  const standalone = path.join(src, ".next/standalone");
  for (const built of ["server.cjs", "compile-cache.cjs"])
    if (!existsSync(path.join(standalone, built)))
      die(`the web app is not built: ${standalone}/${built} is missing`, webAppMissingHint(src));
  // freehold-agent.service runs /opt/freehold/agent.mjs: an image without it could never configure itself.
  if (!existsSync(path.join(standalone, "agent.mjs")))
    die(`the agent is not built: ${standalone}/agent.mjs is missing`, webAppMissingHint(src));
  const dest = path.join(ctx.rootfs, WEBAPP_DIR.slice(1));
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  await ctx.step("copy standalone server, static files, public, migrations", async () => {
    cpSync(standalone, dest, { recursive: true, verbatimSymlinks: true });
    const extra: [string, string][] = [
      [".next/static", ".next/static"],
      ["public", "public"],
      ["prisma/migrations", "prisma/migrations"],
    ];
    for (const [from, to] of extra) {
      const f = path.join(src, from);
      if (existsSync(f)) cpSync(f, path.join(dest, to), { recursive: true, verbatimSymlinks: true });
      else ctx.info(`(no ${from} in ${src})`);
    }
    // Never ship a developer's secrets or databases.
    for (const f of readdirSync(dest)) {
      if (f.startsWith(".env") || f.endsWith(".db") || f.endsWith(".db-journal")) {
        rmSync(path.join(dest, f), { force: true });
        ctx.info(`left out ${f}`);
      }
    }
    await ctx.run(["chown", "-R", "--no-dereference", "0:0", "--", dest]);
    await ctx.run(["chmod", "-R", "u+rwX,go+rX,go-w", "--", dest]);
  });

  const addons = walk(dest).filter((f) => f.endsWith(".node"));
  const abi = await capture(["chroot", ctx.rootfs, "/usr/bin/node", "-p", "process.versions.modules"]);
  ctx.info(`target Node.js ABI ${abi}; ${addons.length} native addon(s)`);
  if (ctx.target.arch !== "amd64" && addons.length > 0) {
    await ctx.step(`native addons for ${ctx.target.arch}`, () => crossBuildAddons(ctx, dest, addons, abi));
  }
  await ctx.step("load native addons with the image's node", async () => {
    for (const a of addons) {
      const inImage = `/${path.relative(ctx.rootfs, a)}`;
      await ctx.chroot(["/usr/bin/node", "-e", "require(process.argv[1])", inImage], {
        hint: `${inImage} does not load with the image's Node.js (wrong architecture or ABI)`,
      });
    }
  });
  await ctx.step("record the web app's code cache with the image's node", () =>
    recordCompileCache(ctx, dest, WEBAPP_DIR),
  );
}

function hostNodeAbi(include: string): string | null {
  const h = path.join(include, "node_version.h");
  if (!existsSync(h)) return null;
  return /#define NODE_MODULE_VERSION (\d+)/.exec(readFileSync(h, "utf8"))?.[1] ?? null;
}

function nodeGypPath(ctx: BuildContext): string {
  const candidates = [
    path.join(ctx.opts.webAppDir, "node_modules/node-gyp/bin/node-gyp.js"),
    path.join(
      path.dirname(process.execPath),
      "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    ),
    "/usr/share/nodejs/node-gyp/bin/node-gyp.js",
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) die("node-gyp not found", "install npm (it bundles node-gyp)");
  return found;
}

const CROSS: Record<string, { triplet: string; gypArch: string }> = {
  arm64: { triplet: "aarch64-linux-gnu", gypArch: "arm64" },
};

async function crossBuildAddons(
  ctx: BuildContext,
  dest: string,
  addons: string[],
  abi: string,
): Promise<void> {
  const cross = CROSS[ctx.target.arch];
  if (!cross) die(`no cross compiler known for ${ctx.target.arch}`);
  const nodeDir = "/usr";
  const hostAbi = hostNodeAbi(path.join(nodeDir, "include/node"));
  if (hostAbi !== abi)
    die(
      `Node.js headers for ABI ${abi} are needed to build addons for ${ctx.target.arch}; ${nodeDir}/include/node has ${hostAbi ?? "none"}`,
      "build with a Node.js 20 host install that ships its headers (e.g. the nodejs package from NodeSource)",
    );
  const pkgs = new Map<string, { dir: string; name: string; version: string }>();
  for (const a of addons) {
    const p = owningPackage(a, dest);
    if (!p) die(`cannot tell which package ${a} belongs to`);
    pkgs.set(p.dir, p);
  }
  for (const p of pkgs.values()) {
    const key = `${p.name.replace("/", "+")}-${p.version}-linux-${ctx.target.arch}-abi${abi}`;
    const cached = path.join(ctx.opts.cacheDir, "native", key);
    if (!existsSync(path.join(cached, ".complete"))) {
      const source = path.join(ctx.opts.webAppDir, "node_modules", p.name);
      const srcVersion = existsSync(path.join(source, "package.json"))
        ? JSON.parse(readFileSync(path.join(source, "package.json"), "utf8")).version
        : null;
      if (srcVersion !== p.version || !existsSync(path.join(source, "binding.gyp")))
        die(
          `cannot rebuild ${p.name}@${p.version} for ${ctx.target.arch}: its source is not in ${source}`,
          "run `npm ci` in the web app directory so node_modules matches the standalone build",
        );
      const build = path.join(ctx.workDir, "native-build", key);
      rmSync(build, { recursive: true, force: true });
      cpSync(source, build, {
        recursive: true,
        filter: (s) => !s.includes(`${path.sep}build${path.sep}`) && !s.endsWith(`${path.sep}build`),
      });
      await ctx.step(`cross-compile ${p.name}@${p.version}`, () =>
        ctx.run(
          [
            process.execPath,
            nodeGypPath(ctx),
            "rebuild",
            `--arch=${cross.gypArch}`,
            `--nodedir=${nodeDir}`,
            "--jobs=max",
          ],
          {
            cwd: build,
            env: {
              ...process.env,
              CC: `${cross.triplet}-gcc`,
              CXX: `${cross.triplet}-g++`,
              LINK: `${cross.triplet}-g++`,
              AR: `${cross.triplet}-ar`,
              npm_config_arch: cross.gypArch,
              npm_config_nodedir: nodeDir,
            },
            hint: `install the cross compilers: apt-get install gcc-${cross.triplet} g++-${cross.triplet}`,
          },
        ),
      );
      rmSync(cached, { recursive: true, force: true });
      mkdirSync(cached, { recursive: true });
      for (const f of walk(path.join(build, "build/Release")).filter((f) => f.endsWith(".node")))
        cpSync(f, path.join(cached, path.basename(f)));
      await ctx.run(["touch", "--", path.join(cached, ".complete")]);
    } else ctx.info(`${p.name}@${p.version}: cached`);
    // Replace each addon of this package with the cross-built file of the same name.
    for (const a of addons.filter((a) => a.startsWith(`${p.dir}${path.sep}`))) {
      const built = path.join(cached, path.basename(a));
      if (!existsSync(built)) die(`cross build of ${p.name} did not produce ${path.basename(a)}`);
      cpSync(built, a);
      if (statSync(a).size === 0) die(`empty addon ${a}`);
    }
  }
}
