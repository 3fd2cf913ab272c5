/**
 * Progress reporting for the image builder: nested, timed steps (after mkosi's complete_step),
 * printed to the terminal and mirrored as structured events for callers (CLI, tests, bench).
 */

export type ProgressEvent =
  | { type: "step-start"; path: string[]; depth: number; at: number }
  | { type: "step-end"; path: string[]; depth: number; ms: number; ok: boolean; error?: string }
  | { type: "info"; path: string[]; message: string }
  | { type: "summary"; summary: BuildSummary };

export type ProgressFn = (ev: ProgressEvent) => void;

export interface PhaseTime {
  name: string;
  ms: number;
}

export interface BuildSummary {
  target: string;
  image: string;
  rawBytes: number;
  rawAllocatedBytes: number;
  compressedBytes: number;
  sha256: string;
  totalMs: number;
  phases: PhaseTime[];
  bootstrapCacheHit: boolean;
}

/** A build failure with a hint on how to fix it. */
export class ImageBuildError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "ImageBuildError";
    this.hint = hint;
  }
}

export function die(message: string, hint?: string): never {
  throw new ImageBuildError(message, hint);
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export interface Reporter {
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  info(message: string): void;
  /** Top-level phases with their durations, in order. */
  readonly phases: PhaseTime[];
  emit(ev: ProgressEvent): void;
}

export interface ReporterOptions {
  /** Where human-readable lines go; defaults to stderr. Pass null for silence. */
  write?: ((line: string) => void) | null;
  progress?: ProgressFn;
  now?: () => number;
}

export function createReporter(opts: ReporterOptions = {}): Reporter {
  const write = opts.write === undefined ? (line: string) => process.stderr.write(`${line}\n`) : opts.write;
  const now = opts.now ?? (() => Date.now());
  const stack: string[] = [];
  const phases: PhaseTime[] = [];
  const start = now();
  const stamp = () => `[${formatMs(now() - start).padStart(9)}]`;
  const emit = (ev: ProgressEvent) => opts.progress?.(ev);

  return {
    phases,
    emit,
    info(message) {
      write?.(`${stamp()} ${"  ".repeat(stack.length)}${message}`);
      emit({ type: "info", path: [...stack], message });
    },
    async step(name, fn) {
      const depth = stack.length;
      const indent = "  ".repeat(depth);
      write?.(`${stamp()} ${indent}‣ ${name}`);
      stack.push(name);
      const path = [...stack];
      const t0 = now();
      emit({ type: "step-start", path, depth, at: t0 });
      try {
        const result = await fn();
        const ms = now() - t0;
        write?.(`${stamp()} ${indent}✓ ${name} (${formatMs(ms)})`);
        emit({ type: "step-end", path, depth, ms, ok: true });
        if (depth === 0) phases.push({ name, ms });
        return result;
      } catch (err) {
        const ms = now() - t0;
        write?.(`${stamp()} ${indent}✗ ${name} (${formatMs(ms)})`);
        emit({ type: "step-end", path, depth, ms, ok: false, error: String((err as Error)?.message ?? err) });
        if (depth === 0) phases.push({ name, ms });
        throw err;
      } finally {
        stack.pop();
      }
    },
  };
}

export function renderSummary(s: BuildSummary): string {
  const lines = [
    `Image ${s.image}`,
    `  target        ${s.target}`,
    `  raw size      ${formatBytes(s.rawBytes)} (${formatBytes(s.rawAllocatedBytes)} allocated)`,
    `  compressed    ${formatBytes(s.compressedBytes)}`,
    `  sha256        ${s.sha256}`,
    `  bootstrap     ${s.bootstrapCacheHit ? "from cache" : "built"}`,
    "  phases:",
    ...s.phases.map((p) => `    ${p.name.padEnd(28)} ${formatMs(p.ms).padStart(10)}`),
    `    ${"total".padEnd(28)} ${formatMs(s.totalMs).padStart(10)}`,
  ];
  return lines.join("\n");
}
