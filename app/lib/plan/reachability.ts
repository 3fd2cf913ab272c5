/**
 * Proof that the web UI is reachable from the owner's browser: the time of the last request the
 * browser made to the plan's progress. After the firewall changes, the agent keeps the new rules
 * only if such a request arrives through them (firewall.confirm); otherwise its timer restores the
 * previous rules. Process-wide, like the plan runners: the engine and the route handlers share it.
 */
const state = globalThis as unknown as { freeholdUiSeenAt?: number; freeholdUiWaiters?: Set<() => void> };

/** Called by the route the browser polls while a plan applies. */
export function noteUiRequest(now = Date.now()): void {
  state.freeholdUiSeenAt = now;
  for (const wake of state.freeholdUiWaiters ?? []) wake();
}

/** Resolves true once a browser request arrives after `since`, false after timeoutMs. */
export function waitForUiRequest(since: number, timeoutMs: number): Promise<boolean> {
  if ((state.freeholdUiSeenAt ?? 0) > since) return Promise.resolve(true);
  state.freeholdUiWaiters ??= new Set();
  const waiters = state.freeholdUiWaiters;
  return new Promise((resolve) => {
    const finish = (seen: boolean) => {
      clearTimeout(timer);
      waiters.delete(wake);
      resolve(seen);
    };
    const wake = () => {
      if ((state.freeholdUiSeenAt ?? 0) > since) finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    waiters.add(wake);
  });
}
