import { SnapshotIdSchema } from "../../_schemas/backup";
import { formatBytes } from "../format";

/**
 * `restic backup --json` prints one JSON object per line: "status" lines while it runs, "error"
 * lines for files it cannot read, one "summary" at the end. These become the agent's progress
 * events (numbers only: file names stay out, they may be anything) and the run's record.
 */

export interface BackupProgress {
  percent: number;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  /** restic's estimate; absent until it has one. */
  secondsRemaining: number | null;
}

export interface BackupSummary {
  snapshotId: string;
  filesNew: number;
  filesChanged: number;
  bytesAdded: number;
  bytesProcessed: number;
  durationSeconds: number;
}

export type BackupLine =
  | { kind: "status"; progress: BackupProgress }
  | { kind: "summary"; summary: BackupSummary }
  | { kind: "error"; during: string };

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** One line of restic's output; null for anything else (text warnings, partial lines). */
export function parseBackupLine(line: string): BackupLine | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const o = value as Record<string, unknown>;
  switch (o.message_type) {
    case "status":
      return {
        kind: "status",
        progress: {
          percent: Math.min(100, num(o.percent_done) * 100),
          bytesDone: num(o.bytes_done),
          bytesTotal: num(o.total_bytes),
          filesDone: num(o.files_done),
          filesTotal: num(o.total_files),
          secondsRemaining: typeof o.seconds_remaining === "number" ? num(o.seconds_remaining) : null,
        },
      };
    case "summary":
      if (typeof o.snapshot_id !== "string" || !SnapshotIdSchema.safeParse(o.snapshot_id).success)
        return null;
      return {
        kind: "summary",
        summary: {
          snapshotId: o.snapshot_id,
          filesNew: num(o.files_new),
          filesChanged: num(o.files_changed),
          bytesAdded: num(o.data_added),
          bytesProcessed: num(o.total_bytes_processed),
          durationSeconds: num(o.total_duration),
        },
      };
    case "error":
      return { kind: "error", during: typeof o.during === "string" ? o.during.slice(0, 40) : "backup" };
    default:
      return null;
  }
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/** "42% · 1.2 GB of 3.0 GB · 120 of 5000 files · about 3 min left" */
export function formatProgress(p: BackupProgress): string {
  const parts = [
    `${Math.floor(p.percent)}%`,
    `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
    `${p.filesDone} of ${p.filesTotal} files`,
  ];
  if (p.secondsRemaining !== null && p.secondsRemaining > 0)
    parts.push(`about ${duration(p.secondsRemaining)} left`);
  return parts.join(" · ");
}

/** Lets through one progress event per `intervalMs` (restic prints many per second). */
export function throttle(intervalMs: number, now: () => number = Date.now): () => boolean {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last < intervalMs) return false;
    last = t;
    return true;
  };
}
