/**
 * freehold-web's preload (`node --require /opt/freehold/compile-cache.cjs server.cjs`): installs
 * the V8 code cache in compile-cache.bin beside it before any module of the server is compiled
 * (app/lib/runtime/compile-cache.ts). `FREEHOLD_COMPILE_CACHE=produce` makes the image build's run
 * record the cache instead. It takes nothing else from outside and stays free of dependencies: it
 * is the first thing Node runs.
 */
import path from "node:path";
import { installCompileCache } from "../app/lib/runtime/compile-cache";

const requested = process.env.FREEHOLD_COMPILE_CACHE;
if (requested !== undefined && requested !== "produce" && requested !== "use")
  console.warn(
    `compile-cache: FREEHOLD_COMPILE_CACHE must be "produce" or "use", not ${JSON.stringify(requested)}; using the cache`,
  );
installCompileCache(path.join(__dirname, "compile-cache.bin"), requested === "produce" ? "produce" : "use");
