/**
 * Finds the `import(` calls of the web app's CommonJS modules, for the code cache
 * (app/lib/runtime/compile-cache.ts): V8 in Node 20 cannot run such a call from cached code, so the
 * cache compiles these modules with each call turned into a call of a helper, and needs to know
 * exactly where the calls are. A real lexer (es-module-lexer, the one Vite rewrites imports with)
 * tells calls from the same letters in strings, comments, templates and regular expressions.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { init, parse } from "es-module-lexer";
import {
  cacheable,
  DYNAMIC_IMPORT_NAME,
  type DynamicImportTable,
  importCallAt,
  sha256,
} from "../app/lib/runtime/compile-cache";

/** es-module-lexer's kind of a dynamic `import(...)` (1 is a static import, 3 `import.meta`). */
const DYNAMIC = 2;

/**
 * Where a CommonJS module's `import(` calls start (the `import` keyword), ascending; undefined when
 * it has none, or when it cannot be rewritten safely: the lexer fails on it, it has ES module syntax
 * (then it is not CommonJS), a hashbang, or already uses the helper's name.
 */
export async function dynamicImportPositions(source: string): Promise<number[] | undefined> {
  if (source.startsWith("#!") || source.includes(DYNAMIC_IMPORT_NAME)) return undefined;
  await init;
  let imports: ReturnType<typeof parse>[0];
  try {
    const [found, exports, , hasModuleSyntax] = parse(source);
    if (hasModuleSyntax || exports.length > 0) return undefined;
    imports = found;
  } catch {
    return undefined;
  }
  if (imports.length === 0 || imports.some((i) => i.t !== DYNAMIC)) return undefined;
  const at = imports.map((i) => i.ss).sort((a, b) => a - b);
  // The lexer's start must be the keyword itself, followed by the call's parenthesis.
  if (!at.every((p) => importCallAt(source, p))) return undefined;
  return at;
}

function* scripts(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* scripts(file);
    else if (entry.isFile() && /\.c?js$/.test(entry.name)) yield file;
  }
}

/**
 * The table for the recording run: every CommonJS script under `appDir` that calls `import(`,
 * by its path in the image (`appDirInImage`), with its hash and call positions. `skipped` counts the
 * scripts that mention `import(` but cannot be rewritten (Node compiles those itself).
 */
export async function dynamicImportTable(
  appDir: string,
  appDirInImage: string,
): Promise<{ table: DynamicImportTable; skipped: number }> {
  const table: DynamicImportTable = new Map();
  let skipped = 0;
  for (const file of scripts(appDir)) {
    const source = readFileSync(file, "utf8");
    if (cacheable(source)) continue;
    const at = await dynamicImportPositions(source);
    if (!at) {
      skipped++;
      continue;
    }
    table.set(path.join(appDirInImage, path.relative(appDir, file)), { sha256: sha256(source), at });
  }
  return { table, skipped };
}
