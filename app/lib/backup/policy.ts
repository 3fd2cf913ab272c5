import type { BackupHistory, Retention } from "../../_schemas/backup";
import type { ReadData } from "./restic";

/**
 * The schedule's rules as pure functions: what to keep, which fifth of the data this week's check
 * reads, and when a missing backup becomes an alert.
 */

/** restic forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune */
export const DEFAULT_RETENTION: Retention = { daily: 7, weekly: 5, monthly: 12 };

const DAY_MS = 86_400_000;
/** 1970-01-05 was a Monday: ISO weeks are counted from there without a break at new year. */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/**
 * The ISO week (Monday to Sunday, UTC) of `date`, as a running count. Consecutive weeks read
 * consecutive fifths, so any five weeks in a row read every pack once (the ISO week number of the
 * year would repeat or skip a fifth at new year: 52 or 53 weeks are not a multiple of 5).
 */
export function isoWeekIndex(date: Date): number {
  return Math.floor((date.getTime() - FIRST_MONDAY_MS) / (7 * DAY_MS));
}

/** `--read-data-subset=N/5` for the week of `date`: N in 1..5. */
export function weeklySubset(date: Date): ReadData {
  const n = (((isoWeekIndex(date) % 5) + 5) % 5) + 1;
  return `${n as 1 | 2 | 3 | 4 | 5}/5`;
}

export interface BackupAlert {
  level: "warning" | "critical";
  message: string;
}

/**
 * Says when backups need the owner: no successful backup for more than `maxAgeMs` (24 h by
 * default), or never one since they were configured `maxAgeMs` ago. null when all is well.
 */
export function backupAlert(
  history: BackupHistory | null,
  now: Date,
  options: { maxAgeMs?: number; configuredAt?: Date | null } = {},
): BackupAlert | null {
  const maxAge = options.maxAgeMs ?? DAY_MS;
  const hours = (ms: number) => Math.round(ms / 3_600_000);
  const last = history?.lastSuccess ? Date.parse(history.lastSuccess.at) : null;
  const failure = history?.lastAttempt && !history.lastAttempt.ok ? history.lastAttempt : null;
  const why = failure?.message ? ` The last attempt failed: ${failure.message}` : "";
  if (last === null) {
    const since = options.configuredAt ? now.getTime() - options.configuredAt.getTime() : Infinity;
    if (since <= maxAge && !failure) return null;
    return { level: "critical", message: `No backup has succeeded yet.${why}` };
  }
  const age = now.getTime() - last;
  if (age <= maxAge) return null;
  return {
    level: age > 3 * maxAge ? "critical" : "warning",
    message: `No successful backup for more than ${hours(maxAge)} h (the last one was ${hours(age)} h ago).${why}`,
  };
}
