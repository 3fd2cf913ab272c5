import { setFlagsFromString } from "node:v8";

/**
 * freehold-web starts with V8's two JIT tiers off (freehold-web.service: `node --no-turbofan
 * --no-sparkplug`) and turns them back on once the wizard has been up for a while.
 *
 * Why: during start-up nearly every function runs once or a few times, and V8 still compiles the
 * warm ones to machine code (Sparkplug on the main thread, TurboFan beside it). On a box that is
 * also booting, on a small board, and most of all under emulation (where every new piece of
 * machine code is translated again), that compiling competes with the start-up it is meant to
 * speed up. Measured in a quiet amd64 guest under QEMU TCG, restarting freehold-web: about 20 s
 * instead of 23 s to listening, and less CPU (see bench/bench-boot.ts for the effect on a boot).
 * A long-running dashboard does want optimized code for its hot paths, hence the restore.
 */
export const DEFERRED_TIERS = {
  "--no-turbofan": "--turbofan",
  "--no-opt": "--turbofan",
  "--no-sparkplug": "--sparkplug",
} as const;

/** How long after listening the tiers come back: the wizard's first pages render without them. */
export const TIERING_RESTORE_DELAY_MS = 60_000;

/** The flags that turn back on what this process's command line turned off (none: nothing to do). */
export function tiersToRestore(execArgv: readonly string[]): string[] {
  const restore = new Set<string>();
  for (const arg of execArgv) {
    const on = DEFERRED_TIERS[arg as keyof typeof DEFERRED_TIERS];
    if (on) restore.add(on);
  }
  return [...restore];
}

/**
 * Turns V8's tiers back on that the command line deferred, and says which. Node documents flag
 * changes after start-up as possibly unpredictable; for these two flags they take effect: functions
 * that get hot from now on are compiled again (checked by test/unit/runtime/jit-tiering.test.ts,
 * and with Debian trixie's node 20.19.2, the one on the box).
 */
export function restoreTiering(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = tiersToRestore(execArgv);
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
