// Run by jit-tiering.test.ts as `node --allow-natives-syntax <tier flags> --import tsx <this>`:
// makes a function hot with the command line's tiers, then again after restoreTiering(), and
// prints V8's optimization status of that function both times (and which flags were restored).
import { restoreTiering } from "../../../app/lib/runtime/jit-tiering";
import { TURBOFANNED } from "./v8-status";

// %-syntax in a Function body: the loader compiles this file, V8 compiles the body (natives allowed).
const status = new Function("f", "return %GetOptimizationStatus(f)") as (f: unknown) => number;

function hot(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (i * 7) % 13;
  return sum;
}
/** Calls `hot` until TurboFan has compiled it or the time is up (compiling runs beside the loop). */
function heat(ms: number): number {
  const until = Date.now() + ms;
  do for (let i = 0; i < 500; i++) hot(200);
  while (!(status(hot) & TURBOFANNED) && Date.now() < until);
  return status(hot);
}

const before = heat(1500);
const restored = restoreTiering();
const after = heat(10_000);
console.log(JSON.stringify({ before, after, restored }));
