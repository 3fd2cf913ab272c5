/** Human-readable byte counts in powers of 1000, as disk and memory vendors print them. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "unknown";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value >= 100 || unit === 0 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}
