/**
 * The one poll-until-deadline loop: the VM harness and its tests, the web server waiting for its
 * key. `check` answers a value when the wait is over, `undefined` to try again, or throws to give
 * up at once (QEMU exited); after `timeoutMs` the error from `timedOut` is thrown (it should say
 * what was last seen).
 */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs: number; timedOut: () => Error },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw opts.timedOut();
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
