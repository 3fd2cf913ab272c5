import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CompileCacheStats,
  cacheable,
  decodeCache,
  describeCompileCache,
  encodeCache,
} from "../../../app/lib/runtime/compile-cache";
// @ts-expect-error: a plain .mjs build script without declarations
import { bundleCompileCache } from "../../../scripts/bundle-compile-cache.mjs";

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), "freehold-compile-cache-"));
const preload = path.join(dir, "compile-cache.cjs");
const cacheFile = path.join(dir, "compile-cache.bin");

// A small app: a module with functions compiled lazily, one that imports dynamically (never taken
// from the cache), and a main that prints what it computed and the preload's figures.
const LIB = `exports.label = () => "lib-one";\nexports.sum = (n) => { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; };\n`;
const DYNAMIC = `exports.load = () => import("node:path").then((m) => m.basename("/x/dynamic.txt"));\n`;
const MAIN = `const lib = require("./lib.cjs");
const dynamic = require("./dynamic.cjs");
dynamic.load().then((base) => {
  console.log(JSON.stringify({ label: lib.label(), sum: lib.sum(10), base, stats: globalThis[Symbol.for("freehold.compile-cache")] }));
});
`;

type Output = { label: string; sum: number; base: string; stats: CompileCacheStats };

async function start(mode: "produce" | "use", flags: string[] = []): Promise<Output> {
  const { stdout } = await run(
    process.execPath,
    [...flags, "--require", preload, path.join(dir, "main.cjs")],
    {
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_ENV: "production", FREEHOLD_COMPILE_CACHE: mode },
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
}

beforeAll(async () => {
  await bundleCompileCache({ outfile: preload });
  writeFileSync(path.join(dir, "lib.cjs"), LIB);
  writeFileSync(path.join(dir, "dynamic.cjs"), DYNAMIC);
  writeFileSync(path.join(dir, "main.cjs"), MAIN);
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("which modules the cache may hold", () => {
  it("leaves out any module that calls import(), however it is spelled", () => {
    expect(cacheable("module.exports = 1;")).toBe(true);
    expect(cacheable('const m = await import("x");')).toBe(false);
    expect(cacheable("x = import ('y')")).toBe(false);
    // Hidden from bundlers in a string: it still runs as a dynamic import.
    expect(cacheable('const load = new Function("s", "return import(s)");')).toBe(false);
    // A call after code on the same line as a comment marker is still code.
    expect(cacheable('f(); import("y"); // see import(x)')).toBe(false);
    expect(cacheable("a = 1; /* x */ import(y)")).toBe(false);
  });

  it("keeps modules that only mention import() in comments, or use the word otherwise", () => {
    expect(cacheable("// an inline `import()` of an ESM path\nmodule.exports = 1;")).toBe(true);
    expect(cacheable("/**\n * loads it with import('x')\n */\nmodule.exports = important();")).toBe(true);
  });

  it("leaves out scripts with a hashbang line", () => {
    expect(cacheable("#!/usr/bin/env node\nconsole.log(1)")).toBe(false);
  });
});

describe("the cache file", () => {
  const runtime = { node: "v20.19.2", v8: "11.3.244.8-node.26", arch: "arm64" };
  const modules = [
    { file: "/opt/freehold/a.js", source: "a()", data: Buffer.from("AAAA") },
    { file: "/opt/freehold/b.js", source: "bb()", data: Buffer.from("BBBBBB") },
  ];

  it("gives each module back its own data, and only for the same source", () => {
    const cache = decodeCache(encodeCache(modules, runtime));
    expect(cache.runtime).toEqual(runtime);
    expect(cache.lookup("/opt/freehold/a.js", "a()")?.toString()).toBe("AAAA");
    expect(cache.lookup("/opt/freehold/b.js", "bb()")?.toString()).toBe("BBBBBB");
    // Same length, other text: V8 would not notice, the cache must.
    expect(cache.lookup("/opt/freehold/a.js", "b()")).toBeUndefined();
    expect(cache.lookup("/opt/freehold/c.js", "a()")).toBeUndefined();
  });

  it("refuses what is not a cache file, or one cut short", () => {
    expect(() => decodeCache(Buffer.from("something else entirely"))).toThrow(/not a Freehold code cache/);
    const whole = encodeCache(modules, runtime);
    expect(() => decodeCache(whole.subarray(0, 20))).toThrow(/cut short/);
    const shortData = decodeCache(whole.subarray(0, whole.length - 3));
    expect(shortData.lookup("/opt/freehold/b.js", "bb()")).toBeUndefined();
  });
});

describe("a real node with the preload", () => {
  it("records the cache, then runs the same modules from it", async () => {
    const produced = await start("produce");
    expect(produced).toMatchObject({ label: "lib-one", sum: 55, base: "dynamic.txt" });
    expect(produced.stats.mode).toBe("produce");
    // main and lib; the module with import() is compiled by Node itself.
    expect(produced.stats.compiled).toBe(2);

    const used = await start("use");
    expect(used).toMatchObject({ label: "lib-one", sum: 55, base: "dynamic.txt" });
    expect(used.stats).toMatchObject({ mode: "use", fromCache: 2, rejected: 0, compiled: 1 });
    expect(describeCompileCache(used.stats)).toBe(
      "code cache: 2 modules from the cache, 0 refused by V8, 1 compiled from source",
    );
  }, 60_000);

  it("compiles a changed module from its new source, even at the same length", async () => {
    await start("produce");
    const changed = LIB.replace('"lib-one"', '"lib-two"');
    expect(changed.length).toBe(LIB.length);
    writeFileSync(path.join(dir, "lib.cjs"), changed);
    try {
      const used = await start("use");
      expect(used.label).toBe("lib-two");
      expect(used.stats).toMatchObject({ mode: "use", fromCache: 1, compiled: 2 });
    } finally {
      writeFileSync(path.join(dir, "lib.cjs"), LIB);
    }
  }, 60_000);

  it("falls back to compiling when V8 runs with other flags than the recording", async () => {
    await start("produce", ["--no-turbofan", "--no-sparkplug"]);
    const same = await start("use", ["--no-turbofan", "--no-sparkplug"]);
    expect(same.stats).toMatchObject({ fromCache: 2, rejected: 0 });
    const other = await start("use");
    expect(other).toMatchObject({ label: "lib-one", sum: 55, base: "dynamic.txt" });
    expect(other.stats).toMatchObject({ fromCache: 0, rejected: 2 });
  }, 60_000);

  it("starts without the cache, and says why, when the file is damaged or from another node", async () => {
    writeFileSync(cacheFile, "garbage");
    const damaged = await start("use");
    expect(damaged).toMatchObject({ label: "lib-one", sum: 55, base: "dynamic.txt" });
    expect(damaged.stats).toMatchObject({ mode: "off", fromCache: 0 });
    expect(describeCompileCache(damaged.stats)).toContain("not a Freehold code cache");

    const foreign = { node: "v18.0.0", v8: "10.1", arch: process.arch };
    writeFileSync(cacheFile, encodeCache([], foreign));
    const other = await start("use");
    expect(other.stats.mode).toBe("off");
    expect(other.stats.reason).toContain("made by node v18.0.0");

    rmSync(cacheFile);
    const none = await start("use");
    expect(none.stats).toMatchObject({ mode: "off", reason: `no ${cacheFile}` });
    expect(readFileSync(path.join(dir, "lib.cjs"), "utf8")).toBe(LIB);
  }, 60_000);
});
