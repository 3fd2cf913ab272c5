/**
 * A process-wide mutex by name. The claim and login paths run their check-then-write sequences
 * under it; the database (a conditional UPDATE plus the Owner.singleton unique index) is the final
 * guard if two processes ever raced.
 */
const globalLocks = globalThis as unknown as { freeholdLocks?: Map<string, Promise<void>> };

export async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  globalLocks.freeholdLocks ??= new Map();
  const locks = globalLocks.freeholdLocks;
  const previous = locks.get(name) ?? Promise.resolve();
  let release: () => void = () => {};
  const current = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chained = previous.then(() => current);
  locks.set(name, chained);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(name) === chained) locks.delete(name);
  }
}
