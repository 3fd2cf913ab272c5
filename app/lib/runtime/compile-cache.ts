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
 * module's entry carries the SHA-256 of its text and a changed file compiles from source. The cache
 * file is root's, beside the code it stands for, and never written by the running service.
 *
 * Resolutions: the same run records where each `require` led (Node's own key for it: the requiring
 * module's directory and the request), because under emulation Node's search for a file (stat,
 * `package.json` reads, `realpath`, path string work in the interpreter) cost as much as a tenth
 * of the start. The cache is made with the code, in the same build step, so the tree it recorded is
 * the tree on disk; it is still checked as the start goes: the recorded resolutions are used only
 * while every module read has the text the build recorded (the first that differs turns them off,
 * and Node resolves from then on), and only with the same `NODE_PATH` and resolution flags. A
 * module the build ran as CommonJS and whose text is unchanged is also not asked about again
 * (Node's `.js` loader walks up to the nearest `package.json` for its "type").
 *
 * `import()`: V8 in Node 20 loses the dynamic import callback of code read from a cache
 * (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), and Next's app-page runtime, next-server and Prisma's
 * client all call it. So the image build finds each `import(` call with a real lexer (its positions
 * go into the index, for that exact text) and the module is compiled with each one turned into a
 * call of `__freeholdDynamicImport(`: an extra parameter of its wrapper, bound to a two-line
 * function that Node's own loader compiles from source with the module's filename, so the import
 * resolves and loads exactly as Node would have done it from that module. Any other module whose
 * text contains `import(` is left to Node.
 */

/** The cache file's name, beside the preload in /opt/freehold. */
export const COMPILE_CACHE_FILE = "compile-cache.bin";

const MAGIC = Buffer.from("FHCODE03");

/** What the cache file says about itself: where each module's cached data is, and for what. */
type CacheIndex = {
  node: string;
  v8: string;
  arch: string;
  /** file, SHA-256 of its source, offset in the data, length, where its `import(` calls are */
  entries: CacheEntry[];
  /** What else decides a resolution (resolutionContext()), and each `require`'s file. */
  resolutions?: { context: string; table: [key: string, file: string][] };
};

type CacheEntry = [string, string, number, number, number[]?];

/** The positions of a module's `import(` calls, found by the image build for the text with this hash. */
export type DynamicImportTable = Map<string, { sha256: string; at: number[] }>;

/** The identifier each `import` keyword of a dynamic import becomes in the compiled text. */
export const DYNAMIC_IMPORT_NAME = "__freeholdDynamicImport";
const WRAPPER_HEAD = `(function (exports, require, module, __filename, __dirname, ${DYNAMIC_IMPORT_NAME}) { `;
const WRAPPER_TAIL = "\n});";

/**
 * Reads the table the image build hands to the recording run (JSON: file → { sha256, at }). Checked
 * by hand: the preload runs before anything else and carries no dependencies.
 */
export function parseDynamicImportTable(json: string): DynamicImportTable {
  const table: DynamicImportTable = new Map();
  const raw: unknown = JSON.parse(json);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new Error("the dynamic import table is not an object of files");
  for (const [file, value] of Object.entries(raw)) {
    const { sha256: hash, at } = (value ?? {}) as { sha256?: unknown; at?: unknown };
    const positions = Array.isArray(at) ? at : [];
    if (
      !path.isAbsolute(file) ||
      typeof hash !== "string" ||
      !/^[0-9a-f]{64}$/.test(hash) ||
      positions.length === 0 ||
      !positions.every((n, i) => Number.isSafeInteger(n) && n >= 0 && (i === 0 || n > positions[i - 1]))
    )
      throw new Error(
        `the dynamic import table's entry for ${JSON.stringify(file)} is not { sha256, at: [ascending positions] }`,
      );
    table.set(file, { sha256: hash, at: positions as number[] });
  }
  return table;
}

/**
 * Whether `position` in `source` starts an `import(` call's keyword: the one test the image build
 * (which finds the calls) and the preload (which rewrites them) share, so they cannot disagree.
 */
export function importCallAt(source: string, position: number): boolean {
  return /^import\s*\(/.test(source.slice(position, position + 64));
}

/**
 * The text V8 compiles for a module whose `import(` calls are at `at`: each `import` keyword becomes
 * the wrapper's extra parameter. undefined when the text is not what the positions were found in.
 */
export function rewriteDynamicImports(source: string, at: readonly number[]): string | undefined {
  let out = "";
  let from = 0;
  for (const position of at) {
    if (position < from || !importCallAt(source, position)) return undefined;
    out += source.slice(from, position) + DYNAMIC_IMPORT_NAME;
    from = position + "import".length;
  }
  return out + source.slice(from);
}

export type CompileCacheStats = {
  mode: "use" | "produce" | "off";
  /** Why the cache is not in use, when it is not. */
  reason?: string;
  fromCache: number;
  /** Entries V8 refused (another V8 build or other flags): compiled from source instead. */
  rejected: number;
  /** Modules compiled from source: not in the cache, changed, or containing `import(`. */
  compiled: number;
  /**
   * `require` calls (not of built-ins) answered from the recorded resolutions and by Node, and the
   * `.js` modules loaded as the CommonJS the build ran them as (no `package.json` walk).
   */
  resolved?: { recorded: number; byNode: number; formatsRecorded: number };
  /**
   * Why the recorded resolutions (and the recorded module formats) were not used, or stopped being
   * used during the start.
   */
  resolutionsOff?: string;
};

const STATS = Symbol.for("freehold.compile-cache");

export function sha256(text: string): string {
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

/**
 * Node's flags and environment that change where a `require` leads: recorded resolutions are for
 * the same ones only.
 */
export function resolutionContext(execArgv: readonly string[], env: NodeJS.ProcessEnv): string {
  const flags = execArgv.filter((flag) =>
    /^(--preserve-symlinks|--conditions|-C|--experimental-(default-type|require-module|detect-module|policy)|--input-type)/.test(
      flag,
    ),
  );
  return JSON.stringify({ flags, nodePath: env.NODE_PATH ?? "" });
}

/** The key of one resolution: Node's own (Module._load's relativeResolveCache). */
function resolutionKey(parentPath: string, request: string): string {
  return `${parentPath}\0${request}`;
}

export function encodeCache(
  modules: { file: string; source: string; data: Buffer; dynamicImportsAt?: number[] }[],
  runtime: { node: string; v8: string; arch: string },
  resolutions?: CacheIndex["resolutions"],
): Buffer {
  let offset = 0;
  const entries: CacheIndex["entries"] = modules.map((m) => {
    const entry: CacheEntry = [m.file, sha256(m.source), offset, m.data.length];
    if (m.dynamicImportsAt) entry.push(m.dynamicImportsAt);
    offset += m.data.length;
    return entry;
  });
  const index = Buffer.from(
    JSON.stringify({ ...runtime, entries, ...(resolutions ? { resolutions } : {}) } satisfies CacheIndex),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(index.length);
  return Buffer.concat([MAGIC, length, index, ...modules.map((m) => m.data)]);
}

export type DecodedCache = {
  runtime: { node: string; v8: string; arch: string };
  /** The module's cached data, and where its `import(` calls are, when the entry is for this text. */
  lookup: (file: string, source: string) => { data: Buffer; dynamicImportsAt?: number[] } | undefined;
  /** Whether the build recorded this file (as CommonJS), whatever its text is now. */
  recorded: (file: string) => boolean;
  /** The resolutionContext() the resolutions were recorded in; undefined when none were. */
  resolutionContext: string | undefined;
  /** Where `request` from a module in `parentPath` led when the cache was made. */
  resolution: (parentPath: string, request: string) => string | undefined;
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
  const recorded = index.resolutions;
  const resolutions = new Map(Array.isArray(recorded?.table) ? recorded.table : []);
  // The `.js` loader and the compile step ask about the same module one after the other: one hash.
  let last: { file: string; source: string; found: ReturnType<DecodedCache["lookup"]> } | undefined;
  return {
    runtime: { node: String(index.node), v8: String(index.v8), arch: String(index.arch) },
    lookup(file, source) {
      if (last?.file === file && last.source === source) return last.found;
      const entry = byFile.get(file);
      let found: ReturnType<DecodedCache["lookup"]>;
      if (entry && entry[1] === sha256(source)) {
        const [, , offset, length, dynamicImportsAt] = entry;
        if (dataStart + offset + length <= blob.length) {
          const data = blob.subarray(dataStart + offset, dataStart + offset + length);
          found = Array.isArray(dynamicImportsAt) ? { data, dynamicImportsAt } : { data };
        }
      }
      last = { file, source, found };
      return found;
    },
    recorded: (file) => byFile.has(file),
    resolutionContext: typeof recorded?.context === "string" ? recorded.context : undefined,
    resolution: (parentPath, request) => resolutions.get(resolutionKey(parentPath, request)),
  };
}

type CompileFn = (this: Module, content: string, filename: string, format?: string) => unknown;
type ResolveFn = (request: string, parent: Module | undefined, isMain: boolean, options?: unknown) => string;
type DynamicImport = (specifier: string, options?: unknown) => Promise<unknown>;
const M = Module as unknown as typeof Module & {
  new (id: string, parent?: Module): Module;
  wrap(source: string): string;
  _resolveFilename: ResolveFn;
  _resolveLookupPaths(request: string, parent: Module): string[] | null;
  _nodeModulePaths(from: string): string[];
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Require["cache"];
  prototype: Module & { _compile: CompileFn };
};

/** A module ready to run: V8's script for its wrapper, and whether the wrapper takes the import. */
type Compiled = { script: vm.Script; withDynamicImport: boolean };

const IMPORTER_SOURCE =
  "module.exports = (specifier, options) => options === undefined ? import(specifier) : import(specifier, options);";

/**
 * The `__freeholdDynamicImport` of the module in `filename`: Node's own loader compiles, from
 * source and on first use, a function that calls `import()` from that filename. The import then
 * resolves against that module and goes through Node's loader, as the original call would have.
 */
function dynamicImporter(compileWithNode: CompileFn, filename: string): DynamicImport {
  let load: DynamicImport | undefined;
  return (specifier, options) => {
    if (!load) {
      const helper = new M(filename);
      helper.filename = filename;
      helper.paths = M._nodeModulePaths(path.dirname(filename));
      compileWithNode.call(helper, IMPORTER_SOURCE, filename);
      load = helper.exports as DynamicImport;
    }
    return load(specifier, options);
  };
}

/**
 * Runs a module compiled by us the way Node's own `_compile` would (its `require`, arguments and
 * `this`): only the compiling differs.
 */
function runModule(mod: Module, filename: string, compiled: Compiled, compileWithNode: CompileFn): unknown {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: unknown) =>
    M._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => M._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = M._extensions;
  require.cache = M._cache;
  const wrapper = compiled.script.runInThisContext({ displayErrors: true }) as (
    ...args: unknown[]
  ) => unknown;
  const args: unknown[] = [mod.exports, require, mod, filename, path.dirname(filename)];
  if (compiled.withDynamicImport) args.push(dynamicImporter(compileWithNode, filename));
  return wrapper.apply(mod.exports, args);
}

/** Compiles a module's text, with its `import(` calls rewritten when their positions are given. */
function compile(
  filename: string,
  source: string,
  dynamicImportsAt: number[] | undefined,
  cachedData?: Buffer,
): Compiled | undefined {
  if (!dynamicImportsAt)
    return { script: new vm.Script(M.wrap(source), { filename, cachedData }), withDynamicImport: false };
  const rewritten = rewriteDynamicImports(source, dynamicImportsAt);
  if (rewritten === undefined) return undefined;
  const script = new vm.Script(WRAPPER_HEAD + rewritten + WRAPPER_TAIL, { filename, cachedData });
  return { script, withDynamicImport: true };
}

function runtime() {
  return { node: process.version, v8: process.versions.v8, arch: process.arch };
}

/**
 * Installs the cache for this process. `use` reads `cacheFile` (a missing one leaves Node as it is);
 * `produce` compiles every module it can itself and writes `cacheFile` when the process exits.
 * `dynamicImports` (produce) says where the `import(` calls of the modules that have them are.
 */
export function installCompileCache(
  cacheFile: string,
  mode: "use" | "produce",
  dynamicImports: DynamicImportTable = new Map(),
): CompileCacheStats {
  const stats: CompileCacheStats = { mode: "off", fromCache: 0, rejected: 0, compiled: 0 };
  (globalThis as Record<symbol, unknown>)[STATS] = stats;
  const proto = M.prototype;
  const original = proto._compile;

  const resolveWithNode = M._resolveFilename;
  const context = resolutionContext(process.execArgv, process.env);

  if (mode === "produce") {
    const produced: { file: string; source: string; script: vm.Script; dynamicImportsAt?: number[] }[] = [];
    const resolutions = new Map<string, string>();
    stats.mode = "produce";
    // Only what Node would keep for the process too: a plain require from a module, to a file.
    M._resolveFilename = function (request, parent, isMain, options) {
      const filename = resolveWithNode.call(this, request, parent, isMain, options);
      if (!isMain && options === undefined && typeof parent?.path === "string" && path.isAbsolute(filename))
        resolutions.set(resolutionKey(parent.path, request), filename);
      return filename;
    };
    proto._compile = function (content, filename, format) {
      if (format === "module") return original.call(this, content, filename, format);
      let dynamicImportsAt: number[] | undefined;
      if (!cacheable(content)) {
        const known = dynamicImports.get(filename);
        if (!known || known.sha256 !== sha256(content)) return original.call(this, content, filename, format);
        dynamicImportsAt = known.at;
      }
      let compiled: Compiled | undefined;
      try {
        compiled = compile(filename, content, dynamicImportsAt);
      } catch {
        // Not a CommonJS script after all (require of an ES module): Node's loader knows what to do.
      }
      if (!compiled) return original.call(this, content, filename, format);
      const script = compiled.script;
      produced.push({
        file: filename,
        source: content,
        script,
        ...(dynamicImportsAt ? { dynamicImportsAt } : {}),
      });
      stats.compiled++;
      return runModule(this, filename, compiled, original);
    };
    process.once("exit", () => {
      const modules = produced.map((p) => ({
        file: p.file,
        source: p.source,
        data: p.script.createCachedData(),
        ...(p.dynamicImportsAt ? { dynamicImportsAt: p.dynamicImportsAt } : {}),
      }));
      const partial = `${cacheFile}.partial`;
      writeFileSync(partial, encodeCache(modules, runtime(), { context, table: [...resolutions] }), {
        mode: 0o644,
      });
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
  stats.resolved = { recorded: 0, byNode: 0, formatsRecorded: 0 };
  const resolved = stats.resolved;
  if (cache.resolutionContext === undefined) stats.resolutionsOff = "none recorded";
  else if (cache.resolutionContext !== context)
    stats.resolutionsOff = `recorded with ${cache.resolutionContext}, this is ${context}`;
  const changed = (filename: string) => {
    stats.resolutionsOff ??= `${filename} differs from the recording`;
  };

  M._resolveFilename = function (request, parent, isMain, options) {
    if (
      stats.resolutionsOff === undefined &&
      !isMain &&
      options === undefined &&
      typeof parent?.path === "string"
    ) {
      const filename = cache.resolution(parent.path, request);
      if (filename !== undefined) {
        resolved.recorded++;
        return filename;
      }
    }
    if (!isMain && !M.isBuiltin(request)) resolved.byNode++;
    return resolveWithNode.call(this, request, parent, isMain, options);
  };

  // A `.js` module the build ran as CommonJS, with the same text: Node's loader would only walk up
  // to its package.json to learn that again.
  const loadJsWithNode = M._extensions[".js"];
  M._extensions[".js"] = function (module, filename) {
    if (stats.resolutionsOff === undefined && filename.endsWith(".js") && cache.recorded(filename)) {
      const content = readFileSync(filename, "utf8");
      if (cache.lookup(filename, content)) {
        resolved.formatsRecorded++;
        (module as Module & { _compile: CompileFn })._compile(content, filename, "commonjs");
        return;
      }
      changed(filename);
    }
    loadJsWithNode.call(this, module, filename);
  };

  proto._compile = function (content, filename, format) {
    const entry = format === "module" ? undefined : cache.lookup(filename, content);
    if (!entry && cache.recorded(filename)) changed(filename);
    // An entry without import positions is only for a module that has no `import(` call.
    const usable = entry && (entry.dynamicImportsAt || cacheable(content));
    const compiled = usable ? compile(filename, content, entry.dynamicImportsAt, entry.data) : undefined;
    if (!compiled) {
      stats.compiled++;
      return original.call(this, content, filename, format);
    }
    if (compiled.script.cachedDataRejected) stats.rejected++;
    else stats.fromCache++;
    return runModule(this, filename, compiled, original);
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
  const modules = `code cache: ${stats.fromCache} modules from the cache, ${stats.rejected} refused by V8, ${stats.compiled} compiled from source`;
  const requires = stats.resolved
    ? `; ${stats.resolved.recorded} requires resolved as recorded, ${stats.resolved.byNode} by Node`
    : "";
  const off = stats.resolutionsOff ? ` (recorded resolutions off: ${stats.resolutionsOff})` : "";
  return modules + requires + off;
}
