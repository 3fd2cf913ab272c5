// Hardware detection timing: `npx tsx bench/bench-detect.ts [runs]`.
// Cold is the first detection in a fresh process (module caches empty); warm is the median of the
// following runs, which is what the wizard pays on each page load. Target: warm under 1 s.
import { performance } from "node:perf_hooks";
import { detectHardware } from "../app/lib/hardware/detect";

const runs = Math.max(1, Number(process.argv[2] ?? 5));

let t = performance.now();
const profile = await detectHardware();
const cold = performance.now() - t;

const warm: number[] = [];
for (let i = 0; i < runs; i += 1) {
  t = performance.now();
  await detectHardware();
  warm.push(performance.now() - t);
}
warm.sort((a, b) => a - b);
const median = warm[Math.floor(warm.length / 2)] ?? 0;

console.log(`detect cold: ${cold.toFixed(0)} ms`);
console.log(
  `detect warm: ${median.toFixed(0)} ms (median of ${runs}; min ${warm[0]?.toFixed(0)} ms, max ${warm[warm.length - 1]?.toFixed(0)} ms)`,
);
console.log(
  `profile: ${profile.arch}, ${profile.cpu.threads} threads, ${profile.disks.length} disks, ${profile.gpus.length} GPUs`,
);
if (median >= 1000) {
  console.error("warm detection is over the 1 s target");
  process.exit(1);
}
