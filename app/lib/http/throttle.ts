/**
 * A per-key limit on how often an action may run (node restarts, "back up now", setting changes,
 * log reads): at most `limit` times in any `windowMs`. In memory: a restart of the web process
 * forgets it, which is fine for actions that are each authenticated, audited and idempotent on the
 * box; failed passwords use the persistent limits of app/lib/auth/rate-limit.ts instead.
 */
export class Throttle {
  private readonly hits = new Map<string, number[]>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** 0 when the action may run now (and counts it), else how many ms until it may. */
  take(key: string, now = Date.now()): number {
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return (recent[0] ?? now) + this.windowMs - now;
    }
    recent.push(now);
    this.hits.set(key, recent);
    return 0;
  }
}
