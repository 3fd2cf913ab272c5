/**
 * freehold-web's preload (`node --require /opt/freehold/compile-cache.cjs server.cjs`): installs
 * the V8 code cache in compile-cache.bin beside it before any module of the server is compiled
 * (app/lib/runtime/compile-cache.ts). `FREEHOLD_COMPILE_CACHE=produce` makes the image build's run
 * record the cache instead, with `FREEHOLD_COMPILE_CACHE_IMPORTS` naming the build's table of
 * `import(` calls. It takes nothing else from outside and stays free of dependencies: it is the
 * first thing Node runs.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  COMPILE_CACHE_FILE,
  type DynamicImportTable,
  installCompileCache,
  parseDynamicImportTable,
} from "../app/lib/runtime/compile-cache";

const requested = process.env.FREEHOLD_COMPILE_CACHE;
if (requested !== undefined && requested !== "produce" && requested !== "use")
  console.warn(
    `compile-cache: FREEHOLD_COMPILE_CACHE must be "produce" or "use", not ${JSON.stringify(requested)}; using the cache`,
  );
const produce = requested === "produce";
const tableFile = process.env.FREEHOLD_COMPILE_CACHE_IMPORTS;
let dynamicImports: DynamicImportTable | undefined;
if (produce && tableFile) {
  try {
    dynamicImports = parseDynamicImportTable(readFileSync(tableFile, "utf8"));
  } catch (error) {
    // The recording run fails loudly: a cache without these modules would only be slower.
    console.error(`compile-cache: cannot read ${tableFile}: ${(error as Error).message}`);
    process.exit(1);
  }
}
installCompileCache(path.join(__dirname, COMPILE_CACHE_FILE), produce ? "produce" : "use", dynamicImports);
