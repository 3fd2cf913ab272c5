import type { HardwareProfile } from "../../_schemas/hardware";
import { detectHardware } from "./detect";

/**
 * This box's hardware profile, detected at most once a minute (lscpu, lsblk, nvidia-smi and sysfs
 * are read each time) and shared by the whole process: freehold-web starts a detection before Next
 * prepares (scripts/server.ts), so the tools run on another core while Node loads, and the first
 * page finds the profile ready. The cache lives on globalThis because the server and Next's page
 * chunks are separate bundles, each with its own copy of this module.
 */
const CACHE = Symbol.for("freehold.hardware-profile");
export const HARDWARE_PROFILE_MAX_AGE_MS = 60_000;

type Cached = { at: number; profile: Promise<HardwareProfile> };

export function hardwareProfile(
  now: () => number = Date.now,
  detect: () => Promise<HardwareProfile> = detectHardware,
): Promise<HardwareProfile> {
  const slot = globalThis as { [CACHE]?: Cached };
  const cached = slot[CACHE];
  if (cached && now() - cached.at <= HARDWARE_PROFILE_MAX_AGE_MS) return cached.profile;
  const fresh: Cached = { at: now(), profile: detect() };
  slot[CACHE] = fresh;
  // A failed detection is not kept: the next caller tries again.
  fresh.profile.catch(() => {
    if (slot[CACHE] === fresh) slot[CACHE] = undefined;
  });
  return fresh.profile;
}
