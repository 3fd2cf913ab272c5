// Bits of V8's %GetOptimizationStatus (src/runtime/runtime.h, OptimizationStatus), for the tiering
// test and the child process it runs.
export const TURBOFANNED = 1 << 6;
export const INTERPRETED = 1 << 7;
