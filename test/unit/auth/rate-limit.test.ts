import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  blockedFor,
  clearFailures,
  delayAfterFailures,
  POLICIES,
  recordFailure,
} from "../../../app/lib/auth/rate-limit";
import { tempDb } from "../wizard/temp-db";

describe("delays", () => {
  it("are free for the first failures, then double up to the cap", () => {
    const p = { free: 3, baseMs: 1000, maxMs: 10_000, windowMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => delayAfterFailures(n, p))).toEqual([
      0, 0, 0, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });
});

describe("the persisted limiter", () => {
  let t: ReturnType<typeof tempDb>;
  beforeEach(() => {
    t = tempDb();
  });
  afterEach(async () => {
    await t.close();
  });

  it("blocks a key for a growing time after its free failures, across clients (restarts)", async () => {
    const keys = [{ key: "claim:ip:10.0.0.9", policy: POLICIES.claimIp }];
    const start = new Date("2026-01-01T00:00:00Z");
    for (let i = 0; i < POLICIES.claimIp.free; i++) {
      expect(await recordFailure(t.prisma, keys, start)).toBe(0);
    }
    expect(await blockedFor(t.prisma, keys, start)).toBe(0);
    expect(await recordFailure(t.prisma, keys, start)).toBe(2000);
    // A new client on the same file (a restarted server) sees the block.
    const other = t.open();
    expect(await blockedFor(other, keys, new Date(start.getTime() + 500))).toBe(1500);
    expect(await blockedFor(other, keys, new Date(start.getTime() + 2000))).toBe(0);
    expect(await recordFailure(other, keys, new Date(start.getTime() + 2000))).toBe(4000);
    expect(await recordFailure(other, keys, new Date(start.getTime() + 6000))).toBe(8000);
    await other.$disconnect();
  });

  it("keeps per-address and global keys apart; success clears only the address", async () => {
    const now = new Date();
    const a = [
      { key: "claim:ip:a", policy: POLICIES.claimIp },
      { key: "claim:global", policy: POLICIES.claimGlobal },
    ];
    for (let i = 0; i < 6; i++) await recordFailure(t.prisma, a, now);
    expect(await blockedFor(t.prisma, [a[0] as (typeof a)[0]], now)).toBeGreaterThan(0);
    expect(await blockedFor(t.prisma, [{ key: "claim:ip:b", policy: POLICIES.claimIp }], now)).toBe(0);
    await clearFailures(t.prisma, ["claim:ip:a"]);
    expect(await blockedFor(t.prisma, a, now)).toBe(0);
    expect((await t.prisma.rateLimit.findUnique({ where: { key: "claim:global" } }))?.failures).toBe(6);
  });

  it("forgets failures after the window", async () => {
    const keys = [{ key: "login:ip:x", policy: { free: 1, baseMs: 1000, maxMs: 60_000, windowMs: 10_000 } }];
    const t0 = new Date("2026-01-01T00:00:00Z");
    await recordFailure(t.prisma, keys, t0);
    expect(await recordFailure(t.prisma, keys, t0)).toBe(1000);
    expect(await recordFailure(t.prisma, keys, new Date(t0.getTime() + 60_000))).toBe(0);
  });
});
