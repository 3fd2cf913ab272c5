/**
 * Records freehold-web's V8 code cache (app/lib/runtime/compile-cache.ts) with the image's own Node:
 * runs the server once in the rootfs, with the unit's own command line (V8 accepts a cache only from
 * the same V8 build and flags), asks for the wizard's first page so that the modules it needs are
 * loaded and their functions compiled, stops the server and keeps /opt/freehold/compile-cache.bin.
 * For arm64 this runs under qemu-user, like the other chroot steps.
 *
 * Modules that call `import()` go into the cache too, rewritten where the lexer found those calls
 * (image/dynamic-imports.ts hands the run a table of them).
 *
 * The run is a preview-mode server on loopback with its database, setup code and everything else
 * it writes in a scratch directory that is removed afterwards: nothing of it reaches the image but
 * the cache file. It is killed if the build is interrupted.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { COMPILE_CACHE_FILE } from "../app/lib/runtime/compile-cache";
import { exitsWithin, trackChild } from "./children";
import { type BuildContext, CHROOT_ENV } from "./context";
import { dynamicImportTable } from "./dynamic-imports";
import { die } from "./log";
import { withProc } from "./stages/50-bootloader";
import { freePort } from "./vm/qemu";
import { webExecStart } from "./web-unit";

const SCRATCH = "/tmp/freehold-compile-cache";
// Under qemu-user an arm64 Node needs minutes for the first page; amd64 needs seconds.
const READY_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 2 * 60_000;

function get(port: number, pathname: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: pathname, headers: { host: `localhost:${port}` }, timeout: 300_000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${pathname} took over 300 s`)));
    req.on("error", reject);
  });
}

export async function recordCompileCache(
  ctx: BuildContext,
  appDir: string,
  appDirInImage: string,
): Promise<void> {
  const cacheFile = path.join(appDir, COMPILE_CACHE_FILE);
  rmSync(cacheFile, { force: true });
  if (!existsSync(path.join(appDir, ".next/BUILD_ID"))) {
    ctx.info("no Next.js build in the web app (the builder's placeholder): no code cache to record");
    return;
  }
  const scratch = path.join(ctx.rootfs, SCRATCH.slice(1));
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const { table, skipped } = await dynamicImportTable(appDir, appDirInImage);
  writeFileSync(path.join(scratch, "dynamic-imports.json"), JSON.stringify(Object.fromEntries(table)));
  ctx.info(
    `${table.size} modules call import(): cached with those calls rewritten (${skipped} more mention it and are left to Node)`,
  );
  const port = await freePort();
  const argv = [
    "chroot",
    ctx.rootfs,
    "/usr/bin/env",
    "--chdir",
    appDirInImage,
    ...webExecStart(ctx.repoRoot),
  ];
  let output = "";
  const tail = () => output.slice(-3000);
  await withProc(ctx, async () => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: {
        ...CHROOT_ENV,
        NODE_ENV: "production",
        FREEHOLD_MODE: "preview",
        PORT: String(port),
        HOSTNAME: "127.0.0.1",
        FREEHOLD_DB: `${SCRATCH}/freehold.db`,
        FREEHOLD_COMPILE_CACHE: "produce",
        FREEHOLD_COMPILE_CACHE_IMPORTS: `${SCRATCH}/dynamic-imports.json`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Its output is kept below (stdout and stderr together), not by the tracker.
    const tracked = trackChild(child, 0);
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-64 * 1024);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    try {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      let answer: { status: number; location?: string } | undefined;
      while (!answer) {
        if (tracked.exitCode() !== undefined)
          die(
            `the web app exited (${tracked.exitCode()}) before it answered, while recording its code cache:\n${tail()}`,
          );
        if (Date.now() > deadline)
          die(
            `the web app did not answer within ${READY_TIMEOUT_MS / 60_000} min while recording its code cache:\n${tail()}`,
          );
        answer = await get(port, "/").catch(() => undefined);
        if (!answer) await new Promise((r) => setTimeout(r, 500));
      }
      // The pages a new owner's browser asks for first: "/" (on the box, a redirect into the wizard;
      // this preview run renders the page the redirect comes from) and the claim page.
      if (answer.location) answer = await get(port, new URL(answer.location, "http://localhost").pathname);
      const claim = await get(port, "/setup");
      ctx.info(`first pages answered ${answer.status} and ${claim.status} in the image's root`);
      child.kill("SIGTERM");
      if (!(await exitsWithin(tracked, STOP_TIMEOUT_MS)))
        die(
          `the web app did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM while recording its code cache`,
        );
    } finally {
      if (tracked.exitCode() === undefined) {
        child.kill("SIGKILL");
        await exitsWithin(tracked, 10_000);
      }
      rmSync(scratch, { recursive: true, force: true });
    }
  });
  if (!existsSync(cacheFile))
    die(
      `the web app wrote no code cache (${cacheFile}):\n${tail()}`,
      "check that freehold-web.service's ExecStart preloads compile-cache.cjs and that npm run build bundled it",
    );
  ctx.info(`code cache: ${(statSync(cacheFile).size / 2 ** 20).toFixed(1)} MiB`);
}
