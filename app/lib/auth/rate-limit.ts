import type { PrismaClient } from "../../_server/generated/prisma/client";

/**
 * Growing delays after failed attempts, persisted in RateLimit so a restart does not reset them.
 * The first `free` failures cost nothing (typos); after that each failure blocks the key for
 * base × 2^(n-free-1), capped at max. A key forgets its failures `windowMs` after its last block ran out.
 */
export interface RatePolicy {
  free: number;
  baseMs: number;
  maxMs: number;
  windowMs: number;
}

export const POLICIES = {
  /** Setup code guesses from one address. */
  claimIp: { free: 5, baseMs: 2_000, maxMs: 15 * 60_000, windowMs: 24 * 3600_000 },
  /** All setup code guesses together: a LAN full of guessers still gets nowhere. */
  claimGlobal: { free: 20, baseMs: 1_000, maxMs: 10 * 60_000, windowMs: 24 * 3600_000 },
  loginIp: { free: 5, baseMs: 1_000, maxMs: 15 * 60_000, windowMs: 24 * 3600_000 },
  /** There is one account: its failures from everywhere. */
  loginAccount: { free: 10, baseMs: 1_000, maxMs: 15 * 60_000, windowMs: 24 * 3600_000 },
} as const satisfies Record<string, RatePolicy>;

/** How long a key is blocked after its n-th failure. */
export function delayAfterFailures(failures: number, policy: RatePolicy): number {
  if (failures <= policy.free) return 0;
  const exponent = Math.min(failures - policy.free - 1, 30);
  return Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
}

export interface Limited {
  key: string;
  policy: RatePolicy;
}

/** The longest remaining block among the keys, in ms (0 when none is blocked). */
export async function blockedFor(db: PrismaClient, keys: Limited[], now: Date): Promise<number> {
  const rows = await db.rateLimit.findMany({ where: { key: { in: keys.map((k) => k.key) } } });
  let wait = 0;
  for (const row of rows) {
    if (row.blockedUntil && row.blockedUntil > now)
      wait = Math.max(wait, row.blockedUntil.getTime() - now.getTime());
  }
  return wait;
}

/** Records one failure on each key and returns the longest new block in ms. */
export async function recordFailure(db: PrismaClient, keys: Limited[], now: Date): Promise<number> {
  let wait = 0;
  for (const { key, policy } of keys) {
    const row = await db.rateLimit.findUnique({ where: { key } });
    const stale =
      row !== null &&
      now.getTime() - Math.max(row.firstFailure.getTime(), row.blockedUntil?.getTime() ?? 0) >
        policy.windowMs;
    const failures = row && !stale ? row.failures + 1 : 1;
    const delay = delayAfterFailures(failures, policy);
    const blockedUntil = delay > 0 ? new Date(now.getTime() + delay) : null;
    await db.rateLimit.upsert({
      where: { key },
      create: { key, failures, firstFailure: now, blockedUntil },
      update: { failures, blockedUntil, ...(stale ? { firstFailure: now } : {}) },
    });
    wait = Math.max(wait, delay);
  }
  return wait;
}

export async function clearFailures(db: PrismaClient, keys: string[]): Promise<void> {
  await db.rateLimit.deleteMany({ where: { key: { in: keys } } });
}
