import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import vm from "node:vm";

/**
 * A V8 code cache for freehold-web's CommonJS modules, made when the image is built and read at
 * every start (freehold-web.service: `node --require /opt/freehold/compile-cache.cjs`).
 *
 * Why: Debian's Node compiles every module from source at each start, and under emulation or on a
 * small board that compiling is a large part of the wait for the wizard (in a guest profile the
 * CommonJS loader alone was 9.5 s of about 46 s). The image build runs the server once in the
 * image's own root with the unit's command line, renders the first page, and keeps V8's bytecode
 * for every module it loaded (`vm.Script#createCachedData` after running, so the functions compiled
 * lazily are in it too). Node 20 has no `module.enableCompileCache`, and the v8-compile-cache package
 * keeps only what is compiled before running and breaks `import()` in cached code (below).
 *
 * Safety: V8 checks its version, flags and the source's length, not the source itself, so each
 * module's entry carries the SHA-256 of its text and a changed file compiles from source. A module
 * whose text contains `import(` is never taken from the cache: V8 in Node 20 loses the dynamic
 * import callback of code read from a cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). The cache file
 * is root's, beside the code it stands for, and never written by the running service.
 */

const MAGIC = Buffer.from("FHCODE01");

/** What the cache file says about itself: where each module's cached data is, and for what. */
type CacheIndex = {
  node: string;
  v8: string;
  arch: string;
  /** file, SHA-256 of its source, offset in the data, length */
  entries: [string, string, number, number][];
};

export type CompileCacheStats = {
  mode: "use" | "produce" | "off";
  /** Why the cache is not in use, when it is not. */
  reason?: string;
  fromCache: number;
  /** Entries V8 refused (another V8 build or other flags): compiled from source instead. */
  rejected: number;
  /** Modules compiled from source: not in the cache, changed, or containing `import(`. */
  compiled: number;
};

const STATS = Symbol.for("freehold.compile-cache");

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Lines that call `import(`, not counting comment lines (a comment cannot lose its callback). */
const DYNAMIC_IMPORT = /^(?!\s*\/\/)(?!\s*\*(?!.*\*\/)).*\bimport\s*\(/m;

/** Whether a module may be taken from the cache (see above: dynamic imports may not). */
export function cacheable(source: string): boolean {
  if (source.startsWith("#!")) return false;
  // The plain search first: most modules never mention `import`.
  return !(source.includes("import") && DYNAMIC_IMPORT.test(source));
}

export function encodeCache(
  modules: { file: string; source: string; data: Buffer }[],
  runtime: { node: string; v8: string; arch: string },
): Buffer {
  let offset = 0;
  const entries: CacheIndex["entries"] = modules.map((m) => {
    const entry: [string, string, number, number] = [m.file, sha256(m.source), offset, m.data.length];
    offset += m.data.length;
    return entry;
  });
  const index = Buffer.from(JSON.stringify({ ...runtime, entries } satisfies CacheIndex));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(index.length);
  return Buffer.concat([MAGIC, length, index, ...modules.map((m) => m.data)]);
}

export type DecodedCache = {
  runtime: { node: string; v8: string; arch: string };
  lookup: (file: string, source: string) => Buffer | undefined;
};

/** Reads a cache file's index; throws with the reason when it is not one. */
export function decodeCache(blob: Buffer): DecodedCache {
  if (blob.length < MAGIC.length + 4 || !blob.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error("not a Freehold code cache");
  const indexLength = blob.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + indexLength;
  if (dataStart > blob.length) throw new Error("the cache file is cut short");
  const index = JSON.parse(blob.subarray(MAGIC.length + 4, dataStart).toString()) as CacheIndex;
  if (!Array.isArray(index.entries)) throw new Error("the cache file has no index");
  const byFile = new Map(index.entries.map((e) => [e[0], e]));
  return {
    runtime: { node: String(index.node), v8: String(index.v8), arch: String(index.arch) },
    lookup(file, source) {
      const entry = byFile.get(file);
      if (!entry || entry[1] !== sha256(source)) return undefined;
      const [, , offset, length] = entry;
      if (dataStart + offset + length > blob.length) return undefined;
      return blob.subarray(dataStart + offset, dataStart + offset + length);
    },
  };
}

type CompileFn = (this: Module, content: string, filename: string, format?: string) => unknown;
type ModuleInternals = typeof Module & {
  wrap(source: string): string;
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: Module): string[] | null;
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Require["cache"];
  prototype: Module & { _compile: CompileFn };
};

/**
 * Runs a module compiled by us the way Node's own `_compile` would (its `require`, arguments and
 * `this`): only the compiling differs.
 */
function runModule(mod: Module, filename: string, script: vm.Script): unknown {
  const M = Module as unknown as ModuleInternals;
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: unknown) =>
    M._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => M._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = M._extensions;
  require.cache = M._cache;
  const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
  return wrapper.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
}

function compile(filename: string, source: string, cachedData?: Buffer): vm.Script {
  const M = Module as unknown as ModuleInternals;
  return new vm.Script(M.wrap(source), { filename, cachedData });
}

function runtime() {
  return { node: process.version, v8: process.versions.v8, arch: process.arch };
}

/**
 * Installs the cache for this process. `use` reads `cacheFile` (a missing one leaves Node as it is);
 * `produce` compiles every cacheable module itself and writes `cacheFile` when the process exits.
 */
export function installCompileCache(cacheFile: string, mode: "use" | "produce"): CompileCacheStats {
  const stats: CompileCacheStats = { mode: "off", fromCache: 0, rejected: 0, compiled: 0 };
  (globalThis as Record<symbol, unknown>)[STATS] = stats;
  const proto = (Module as unknown as ModuleInternals).prototype;
  const original = proto._compile;

  if (mode === "produce") {
    const produced: { file: string; source: string; script: vm.Script }[] = [];
    stats.mode = "produce";
    proto._compile = function (content, filename, format) {
      if (format === "module" || !cacheable(content)) return original.call(this, content, filename, format);
      let script: vm.Script;
      try {
        script = compile(filename, content);
      } catch {
        // Not a CommonJS script after all (require of an ES module): Node's loader knows what to do.
        return original.call(this, content, filename, format);
      }
      produced.push({ file: filename, source: content, script });
      stats.compiled++;
      return runModule(this, filename, script);
    };
    process.once("exit", () => {
      const modules = produced.map((p) => ({
        file: p.file,
        source: p.source,
        data: p.script.createCachedData(),
      }));
      const partial = `${cacheFile}.partial`;
      writeFileSync(partial, encodeCache(modules, runtime()), { mode: 0o644 });
      renameSync(partial, cacheFile);
    });
    return stats;
  }

  let cache: DecodedCache;
  try {
    cache = decodeCache(readFileSync(cacheFile));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    stats.reason = code === "ENOENT" ? `no ${cacheFile}` : `${cacheFile}: ${(error as Error).message}`;
    return stats;
  }
  const here = runtime();
  if (cache.runtime.node !== here.node || cache.runtime.v8 !== here.v8 || cache.runtime.arch !== here.arch) {
    stats.reason = `made by node ${cache.runtime.node} (V8 ${cache.runtime.v8}, ${cache.runtime.arch}), this is ${here.node} (V8 ${here.v8}, ${here.arch})`;
    return stats;
  }
  stats.mode = "use";
  proto._compile = function (content, filename, format) {
    const cachedData =
      format === "module" || !cacheable(content) ? undefined : cache.lookup(filename, content);
    if (!cachedData) {
      stats.compiled++;
      return original.call(this, content, filename, format);
    }
    const script = compile(filename, content, cachedData);
    if (script.cachedDataRejected) stats.rejected++;
    else stats.fromCache++;
    return runModule(this, filename, script);
  };
  return stats;
}

/** This process's cache figures, or undefined when it was started without the cache. */
export function compileCacheStats(): CompileCacheStats | undefined {
  return (globalThis as Record<symbol, CompileCacheStats | undefined>)[STATS];
}

/** One line for the journal: whether the start-up used the cache, and how much of it. */
export function describeCompileCache(stats: CompileCacheStats | undefined): string | undefined {
  if (!stats) return undefined;
  if (stats.mode === "off") return `code cache not used (${stats.reason ?? "unknown reason"})`;
  if (stats.mode === "produce") return `code cache: recording ${stats.compiled} modules`;
  return `code cache: ${stats.fromCache} modules from the cache, ${stats.rejected} refused by V8, ${stats.compiled} compiled from source`;
}
