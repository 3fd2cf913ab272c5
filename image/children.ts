/**
 * Children the image build and the VM harness start and must not leave behind (QEMU, swtpm, the
 * chroot'd web app that records the code cache): each tracked child is killed when this process
 * exits or is interrupted (SIGINT, SIGTERM, SIGHUP), and its exit and stderr tail are recorded.
 */
import type { ChildProcess } from "node:child_process";

const running = new Set<ChildProcess>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
    });
  }
}

/** A tracked child: its exit, and the tail of what it wrote to stderr. */
export interface TrackedChild {
  /** Resolves with the exit code when the child exits, null when it was killed or never started. */
  exited: Promise<number | null>;
  /** undefined while the child runs; then its exit code, or null (a signal, or spawn failed). */
  exitCode: () => number | null | undefined;
  /** The last `stderrLimit` characters of its stderr (when stderr is a pipe; none for a limit of 0). */
  stderr: () => string;
}

/**
 * Watches a child spawned with stderr piped: the cleanup kills it while it runs ("running"), its
 * stderr tail is kept for error messages, and its exit (or a failed spawn, "error") is recorded.
 */
export function trackChild(child: ChildProcess, stderrLimit: number): TrackedChild {
  installCleanup();
  running.add(child);
  let stderr = "";
  // 0 keeps nothing (the caller reads stderr itself); slice(-0) would keep all of it.
  if (stderrLimit > 0)
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString("utf8")).slice(-stderrLimit);
    });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      exitCode = code;
      resolve(code);
    });
    child.once("error", () => {
      running.delete(child);
      exitCode = null;
      resolve(null);
    });
  });
  return { exited, exitCode: () => exitCode, stderr: () => stderr };
}

/** Whether a tracked child exits within `timeoutMs`. */
export function exitsWithin(child: TrackedChild, timeoutMs: number): Promise<boolean> {
  if (child.exitCode() !== undefined) return Promise.resolve(true);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    child.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
