import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CompileCacheStats,
  cacheable,
  DYNAMIC_IMPORT_NAME,
  decodeCache,
  describeCompileCache,
  encodeCache,
  parseDynamicImportTable,
  rewriteDynamicImports,
  sha256,
} from "../../../app/lib/runtime/compile-cache";
import { dynamicImportPositions } from "../../../image/dynamic-imports";
// @ts-expect-error: a plain .mjs build script without declarations
import { bundleCompileCache } from "../../../scripts/bundle-compile-cache.mjs";

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), "freehold-compile-cache-"));
const preload = path.join(dir, "compile-cache.cjs");
const cacheFile = path.join(dir, "compile-cache.bin");

// A small app: a module with functions compiled lazily, one in a subfolder that imports
// dynamically (a built-in, a file relative to itself, a package that has an ES module and a
// CommonJS build), and a main that prints what it computed and the preload's figures.
const LIB = `exports.label = () => "lib-one";\nexports.sum = (n) => { let s = 0; for (let i = 1; i <= n; i++) s += i; return s; };\n`;
const DYNAMIC = `// Not a call: import("nothing") in a comment, nor "import(x)" in a string.
exports.load = async () => {
  const base = (await import("node:path")).basename("/x/dynamic.txt");
  const near = (await import ("../data/value.mjs")).value;
  const pkg = (await import("pkg")).flavour;
  return [base, near, pkg, "import(x)"].join(" ");
};
`;
const MAIN = `const lib = require("./lib.cjs");
const dynamic = require("./sub/dynamic.cjs");
dynamic.load().then((base) => {
  console.log(JSON.stringify({ label: lib.label(), sum: lib.sum(10), base, stats: globalThis[Symbol.for("freehold.compile-cache")] }));
});
`;
const LOADED = "dynamic.txt near-esm pkg-esm import(x)";
const dynamicFile = path.join(dir, "sub", "dynamic.cjs");
const tableFile = path.join(dir, "dynamic-imports.json");

type Output = { label: string; sum: number; base: string; stats: CompileCacheStats };

async function start(mode: "produce" | "use", flags: string[] = [], table?: string): Promise<Output> {
  return startMain(path.join(dir, "main.cjs"), mode, flags, table);
}

async function startMain<T = Output>(
  main: string,
  mode: "produce" | "use",
  flags: string[] = [],
  table?: string,
): Promise<T> {
  const { stdout } = await run(process.execPath, [...flags, "--require", preload, main], {
    // Elsewhere than the app: imports resolve from their module, not from the working directory.
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      FREEHOLD_COMPILE_CACHE: mode,
      ...(table ? { FREEHOLD_COMPILE_CACHE_IMPORTS: table } : {}),
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
}

beforeAll(async () => {
  await bundleCompileCache({ outfile: preload });
  mkdirSync(path.join(dir, "sub"));
  mkdirSync(path.join(dir, "data"));
  mkdirSync(path.join(dir, "node_modules", "pkg"), { recursive: true });
  writeFileSync(path.join(dir, "lib.cjs"), LIB);
  writeFileSync(dynamicFile, DYNAMIC);
  writeFileSync(path.join(dir, "data", "value.mjs"), 'export const value = "near-esm";\n');
  writeFileSync(
    path.join(dir, "node_modules", "pkg", "package.json"),
    JSON.stringify({ name: "pkg", exports: { import: "./esm.mjs", require: "./cjs.cjs" } }),
  );
  writeFileSync(path.join(dir, "node_modules", "pkg", "esm.mjs"), 'export const flavour = "pkg-esm";\n');
  writeFileSync(path.join(dir, "node_modules", "pkg", "cjs.cjs"), 'exports.flavour = "pkg-cjs";\n');
  writeFileSync(path.join(dir, "main.cjs"), MAIN);
  const at = await dynamicImportPositions(DYNAMIC);
  writeFileSync(tableFile, JSON.stringify({ [dynamicFile]: { sha256: sha256(DYNAMIC), at } }));
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
    expect(cache.lookup("/opt/freehold/a.js", "a()")?.data.toString()).toBe("AAAA");
    expect(cache.lookup("/opt/freehold/b.js", "bb()")?.data.toString()).toBe("BBBBBB");
    expect(cache.lookup("/opt/freehold/a.js", "a()")?.dynamicImportsAt).toBeUndefined();
    // Same length, other text: V8 would not notice, the cache must.
    expect(cache.lookup("/opt/freehold/a.js", "b()")).toBeUndefined();
    expect(cache.lookup("/opt/freehold/c.js", "a()")).toBeUndefined();
  });

  it("keeps where a module's import() calls are", () => {
    const withImports = [
      ...modules,
      { file: "/opt/freehold/c.js", source: "a()", data: Buffer.from("AAAA"), dynamicImportsAt: [0, 9] },
    ];
    const cache = decodeCache(encodeCache(withImports, runtime));
    expect(cache.lookup("/opt/freehold/c.js", "a()")).toMatchObject({ dynamicImportsAt: [0, 9] });
    expect(cache.lookup("/opt/freehold/c.js", "a()")?.data.toString()).toBe("AAAA");
  });

  it("refuses what is not a cache file, or one cut short", () => {
    expect(() => decodeCache(Buffer.from("something else entirely"))).toThrow(/not a Freehold code cache/);
    const whole = encodeCache(modules, runtime);
    expect(() => decodeCache(whole.subarray(0, 20))).toThrow(/cut short/);
    const shortData = decodeCache(whole.subarray(0, whole.length - 3));
    expect(shortData.lookup("/opt/freehold/b.js", "bb()")).toBeUndefined();
  });
});

describe("rewriting a module's import() calls", () => {
  const source = 'a = import("x"); b = import ( y );';

  it("turns each import keyword at the given positions into the helper's name", () => {
    expect(rewriteDynamicImports(source, [4, 21])).toBe(
      `a = ${DYNAMIC_IMPORT_NAME}("x"); b = ${DYNAMIC_IMPORT_NAME} ( y );`,
    );
  });

  it("refuses positions that do not point at an import( call of this text", () => {
    expect(rewriteDynamicImports(source, [5])).toBeUndefined();
    expect(rewriteDynamicImports(source, [21, 4])).toBeUndefined();
    expect(rewriteDynamicImports("an important(call)", [3])).toBeUndefined();
  });

  it("reads the build's table, and refuses one that is not a table of ascending positions", () => {
    const hash = sha256(source);
    const table = parseDynamicImportTable(
      JSON.stringify({ "/opt/freehold/x.js": { sha256: hash, at: [4, 21] } }),
    );
    expect(table.get("/opt/freehold/x.js")).toEqual({ sha256: hash, at: [4, 21] });
    for (const bad of [
      [],
      { "x.js": { sha256: hash, at: [4] } },
      { "/x.js": { sha256: "abc", at: [4] } },
      { "/x.js": { sha256: hash, at: [] } },
      { "/x.js": { sha256: hash, at: [21, 4] } },
      { "/x.js": { sha256: hash, at: [-1] } },
    ])
      expect(() => parseDynamicImportTable(JSON.stringify(bad))).toThrow(/dynamic import table/);
  });
});

describe("a real node with the preload", () => {
  it("records the cache, then runs the same modules from it", async () => {
    const produced = await start("produce");
    expect(produced).toMatchObject({ label: "lib-one", sum: 55, base: LOADED });
    expect(produced.stats.mode).toBe("produce");
    // main and lib; without the build's table the module with import() is compiled by Node itself.
    expect(produced.stats.compiled).toBe(2);

    const used = await start("use");
    expect(used).toMatchObject({ label: "lib-one", sum: 55, base: LOADED });
    expect(used.stats).toMatchObject({ mode: "use", fromCache: 2, rejected: 0, compiled: 1 });
    expect(describeCompileCache(used.stats)).toBe(
      "code cache: 2 modules from the cache, 0 refused by V8, 1 compiled from source; 2 requires resolved as recorded, 0 by Node",
    );
  }, 60_000);

  it("runs a module that calls import() from the cache, each import resolved as Node would", async () => {
    const produced = await start("produce", [], tableFile);
    expect(produced).toMatchObject({ base: LOADED });
    expect(produced.stats.compiled).toBe(3);

    const used = await start("use");
    expect(used).toMatchObject({ label: "lib-one", sum: 55, base: LOADED });
    expect(used.stats).toMatchObject({ mode: "use", fromCache: 3, rejected: 0, compiled: 0 });
  }, 60_000);

  it("leaves a module to Node when the build's table is for other text", async () => {
    writeFileSync(tableFile, JSON.stringify({ [dynamicFile]: { sha256: sha256(`${DYNAMIC} `), at: [97] } }));
    try {
      const produced = await start("produce", [], tableFile);
      expect(produced).toMatchObject({ base: LOADED });
      expect(produced.stats.compiled).toBe(2);
      const used = await start("use");
      expect(used.stats).toMatchObject({ fromCache: 2, compiled: 1 });
    } finally {
      const at = await dynamicImportPositions(DYNAMIC);
      writeFileSync(tableFile, JSON.stringify({ [dynamicFile]: { sha256: sha256(DYNAMIC), at } }));
    }
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
    expect(other).toMatchObject({ label: "lib-one", sum: 55, base: LOADED });
    expect(other.stats).toMatchObject({ fromCache: 0, rejected: 2 });
  }, 60_000);

  it("starts without the cache, and says why, when the file is damaged or from another node", async () => {
    writeFileSync(cacheFile, "garbage");
    const damaged = await start("use");
    expect(damaged).toMatchObject({ label: "lib-one", sum: 55, base: LOADED });
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

describe("the resolutions recorded with the cache", () => {
  // Another small app beside the first (the cache file is the preload's, so each test records
  // first): .js modules, a relative require, and a package found through its package.json.
  const app = path.join(dir, "tree");
  const main = path.join(app, "main.js");
  const A = 'exports.name = () => "a-one";\n';
  type TreeOutput = { out: string; stats: CompileCacheStats };

  beforeAll(() => {
    mkdirSync(path.join(app, "lib"), { recursive: true });
    mkdirSync(path.join(app, "node_modules", "pkg-cjs", "lib"), { recursive: true });
    writeFileSync(
      main,
      'const a = require("./lib/a.js");\nconst p = require("pkg-cjs");\nconsole.log(JSON.stringify({ out: a.name() + " " + p.name(), stats: globalThis[Symbol.for("freehold.compile-cache")] }));\n',
    );
    writeFileSync(path.join(app, "lib", "a.js"), A);
    const pkg = path.join(app, "node_modules", "pkg-cjs");
    writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "pkg-cjs", main: "lib/entry" }));
    writeFileSync(path.join(pkg, "lib", "entry.js"), 'exports.name = () => require("./inner").name;\n');
    writeFileSync(path.join(pkg, "lib", "inner.js"), 'exports.name = "pkg-one";\n');
  });

  it("records where each require led, and answers the same requires from the recording", async () => {
    await startMain<TreeOutput>(main, "produce");
    const index = JSON.parse(
      readFileSync(cacheFile)
        .subarray(12, 12 + readFileSync(cacheFile).readUInt32LE(8))
        .toString(),
    );
    expect(new Map(index.resolutions.table).get(`${app}\0pkg-cjs`)).toBe(
      path.join(app, "node_modules", "pkg-cjs", "lib", "entry.js"),
    );

    const used = await startMain<TreeOutput>(main, "use");
    expect(used.out).toBe("a-one pkg-one");
    // ./lib/a.js and pkg-cjs from main, ./inner from the package; four .js modules, main included.
    expect(used.stats.resolved).toEqual({ recorded: 3, byNode: 0, formatsRecorded: 4 });
    expect(used.stats.resolutionsOff).toBeUndefined();
    expect(describeCompileCache(used.stats)).toBe(
      "code cache: 4 modules from the cache, 0 refused by V8, 0 compiled from source; 3 requires resolved as recorded, 0 by Node",
    );
  }, 60_000);

  it("leaves resolving to Node from the first module whose text differs from the recording", async () => {
    await startMain<TreeOutput>(main, "produce");
    writeFileSync(path.join(app, "lib", "a.js"), A.replace("a-one", "a-two"));
    try {
      const used = await startMain<TreeOutput>(main, "use");
      expect(used.out).toBe("a-two pkg-one");
      expect(used.stats.resolutionsOff).toBe(`${path.join(app, "lib", "a.js")} differs from the recording`);
      // ./lib/a.js was resolved before its text was read; pkg-cjs and ./inner come after.
      expect(used.stats.resolved).toEqual({ recorded: 1, byNode: 2, formatsRecorded: 1 });
      expect(used.stats).toMatchObject({ fromCache: 3, compiled: 1 });
    } finally {
      writeFileSync(path.join(app, "lib", "a.js"), A);
    }
  }, 60_000);

  it("uses no recorded resolution under other resolution flags", async () => {
    await startMain<TreeOutput>(main, "produce");
    const used = await startMain<TreeOutput>(main, "use", ["--preserve-symlinks"]);
    expect(used.out).toBe("a-one pkg-one");
    expect(used.stats.resolutionsOff).toMatch(/^recorded with .*"flags":\[\].*this is .*--preserve-symlinks/);
    expect(used.stats.resolved).toEqual({ recorded: 0, byNode: 3, formatsRecorded: 0 });
    expect(used.stats.fromCache).toBe(4);
  }, 60_000);
});
