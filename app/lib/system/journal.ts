import type { LogLine } from "../../_schemas/dashboard";

/**
 * A service's journal lines from `journalctl -o json` (one JSON object per line). MESSAGE is a
 * string, an array of bytes when it is not valid UTF-8 or holds control characters, or null when
 * it is larger than journalctl's field limit. Terminal colour sequences and other control
 * characters are removed; the page shows the text as text. Pure.
 */

export const LOG_FIELDS = "MESSAGE,PRIORITY,SYSLOG_IDENTIFIER,_PID";
export const MAX_MESSAGE = 2000;

export const journalArgv = (unit: string, lines: number) => [
  "journalctl",
  `--unit=${unit}`,
  `--lines=${lines}`,
  "--output=json",
  `--output-fields=${LOG_FIELDS}`,
  "--no-pager",
  "--quiet",
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

function text(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((b) => typeof b === "number" && b >= 0 && b <= 255))
    return Buffer.from(value as number[]).toString("utf8");
  return null;
}

export function cleanMessage(raw: string): string {
  const clean = raw.replace(ANSI, "").replace(CONTROL, "").trimEnd();
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE)}…` : clean;
}

export function parseJournalJson(output: string, limit: number): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of output.split("\n")) {
    if (!raw.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    const usec = text(entry.__REALTIME_TIMESTAMP);
    const time =
      usec && /^\d{1,20}$/.test(usec) ? new Date(Number(BigInt(usec) / 1000n)).toISOString() : null;
    const priority = Number(text(entry.PRIORITY));
    const message = text(entry.MESSAGE);
    const identifier = text(entry.SYSLOG_IDENTIFIER);
    lines.push({
      time,
      priority: Number.isInteger(priority) && priority >= 0 && priority <= 7 ? priority : null,
      identifier: identifier ? cleanMessage(identifier).slice(0, 200) : null,
      message: message === null ? "(message too large or unreadable; see journalctl)" : cleanMessage(message),
    });
  }
  return lines.slice(-limit);
}
