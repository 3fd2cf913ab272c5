import type { TransferProgress } from "../../_schemas/agent";

/**
 * A download's rate and ETA from (time, bytes) samples: the rate is measured over the last
 * `windowMs` (a moving window, so a stall shows within seconds and an old fast start does not
 * flatter it), the ETA is what is left at that rate. Pure.
 */

export interface Sample {
  atMs: number;
  bytes: number;
}

export const RATE_WINDOW_MS = 10_000;

/** Keeps the samples of the window (and the one just before it, so the window is full). */
export function addSample(samples: readonly Sample[], sample: Sample, windowMs = RATE_WINDOW_MS): Sample[] {
  // A restarted count (a new layer's bytes reported alone) starts a fresh series.
  const last = samples.at(-1);
  const kept = last && sample.bytes < last.bytes ? [] : [...samples];
  kept.push(sample);
  const cutoff = sample.atMs - windowMs;
  const firstInside = kept.findIndex((s) => s.atMs >= cutoff);
  return kept.slice(Math.max(0, firstInside - 1));
}

export function transferStats(
  samples: readonly Sample[],
  totalBytes: number | null,
  windowMs = RATE_WINDOW_MS,
): TransferProgress {
  const last = samples.at(-1);
  const done = last?.bytes ?? 0;
  const total = totalBytes !== null && totalBytes >= done ? totalBytes : totalBytes === null ? null : done;
  let rate: number | null = null;
  if (last) {
    const first = samples.find((s) => s.atMs >= last.atMs - windowMs) ?? last;
    const from = samples[Math.max(0, samples.indexOf(first) - 1)] ?? first;
    const seconds = (last.atMs - from.atMs) / 1000;
    if (seconds > 0) rate = Math.max(0, (last.bytes - from.bytes) / seconds);
  }
  const left = total === null ? null : total - done;
  const eta = left === 0 ? 0 : left !== null && rate !== null && rate > 0 ? left / rate : null;
  return {
    doneBytes: Math.round(done),
    totalBytes: total === null ? null : Math.round(total),
    bytesPerSecond: rate === null ? null : Math.round(rate),
    etaSeconds: eta === null ? null : Math.ceil(eta),
  };
}

/** "1.2 GB of 4.7 GB, 12.3 MB/s, about 5 min left" */
export function describeTransfer(t: TransferProgress): string {
  const size = (b: number) =>
    b >= 1e9
      ? `${(b / 1e9).toFixed(1)} GB`
      : b >= 1e6
        ? `${(b / 1e6).toFixed(1)} MB`
        : `${Math.round(b / 1e3)} kB`;
  const parts = [t.totalBytes === null ? size(t.doneBytes) : `${size(t.doneBytes)} of ${size(t.totalBytes)}`];
  if (t.bytesPerSecond !== null) parts.push(`${size(t.bytesPerSecond)}/s`);
  if (t.etaSeconds !== null && t.etaSeconds > 0)
    parts.push(
      t.etaSeconds >= 90 ? `about ${Math.round(t.etaSeconds / 60)} min left` : `about ${t.etaSeconds} s left`,
    );
  return parts.join(", ");
}

/** At most one progress line per interval, and always the last one. */
export const shouldReport = (lastMs: number | null, nowMs: number, finished: boolean, intervalMs = 1000) =>
  finished || lastMs === null || nowMs - lastMs >= intervalMs;
