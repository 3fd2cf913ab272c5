/**
 * The box's resource use from the kernel's own files. Pure parsers; sampler.ts reads the files.
 */

export interface CpuTimes {
  /** All jiffies of the aggregate "cpu" line. */
  total: number;
  /** idle + iowait. */
  idle: number;
}

/** The aggregate `cpu  user nice system idle iowait irq softirq steal guest guest_nice` line. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return null;
  // guest and guest_nice are already counted in user and nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait };
}

/** Busy share of the CPU between two readings, 0–100; null without a usable interval. */
export function cpuPercent(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (!before || !after) return null;
  const total = after.total - before.total;
  const idle = after.idle - before.idle;
  if (total <= 0 || idle < 0) return null;
  return Math.min(100, Math.max(0, (100 * (total - idle)) / total));
}

export interface Memory {
  totalBytes: number;
  availableBytes: number;
}

/** MemTotal and MemAvailable (kB in the file). */
export function parseMeminfo(text: string): Memory | null {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text);
    return m?.[1] ? Number(m[1]) * 1024 : null;
  };
  const total = kb("MemTotal");
  const available = kb("MemAvailable");
  if (total === null || available === null || total <= 0) return null;
  return { totalBytes: total, availableBytes: available };
}

export interface ThermalReading {
  /** The zone's type or the hwmon chip's name: "x86_pkg_temp", "cpu-thermal", "k10temp", ... */
  type: string;
  /** Millidegrees Celsius, as the files hold them. */
  milliC: number;
}

const CPU_SENSORS = /^(x86_pkg_temp|cpu[-_]thermal|soc[-_]thermal|coretemp|k10temp|zenpower|cpu)/i;

/**
 * The CPU's temperature in °C: a CPU sensor when there is one, else the hottest plausible zone;
 * null when the box has none (virtual machines, some boards). Readings outside -40…150 °C are
 * sensor errors and are ignored.
 */
export function pickTemperature(readings: ThermalReading[]): number | null {
  const plausible = readings.filter(
    (r) => Number.isFinite(r.milliC) && r.milliC > -40_000 && r.milliC < 150_000,
  );
  const cpu = plausible.filter((r) => CPU_SENSORS.test(r.type));
  const pool = cpu.length > 0 ? cpu : plausible;
  if (pool.length === 0) return null;
  return Math.round(Math.max(...pool.map((r) => r.milliC)) / 100) / 10;
}

/** Used share of a filesystem from statfs figures, 0–100 (blocks available to unprivileged users). */
export function diskPercent(s: { blocks: number; bfree: number; bavail: number; bsize: number }): {
  percent: number;
  usedBytes: number;
  totalBytes: number;
} | null {
  if (s.blocks <= 0) return null;
  const used = s.blocks - s.bfree;
  // As df computes it: used / (used + available to users).
  const denominator = used + s.bavail;
  if (denominator <= 0) return null;
  return {
    percent: Math.min(100, (100 * used) / denominator),
    usedBytes: used * s.bsize,
    totalBytes: s.blocks * s.bsize,
  };
}
