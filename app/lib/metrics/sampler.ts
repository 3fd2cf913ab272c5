import { readdir, readFile, statfs } from "node:fs/promises";
import path from "node:path";
import {
  type CpuTimes,
  cpuPercent,
  diskPercent,
  parseMeminfo,
  parseProcStat,
  pickTemperature,
  type ThermalReading,
} from "./proc";
import { downsample, Ring, type Sample } from "./series";

/**
 * The web process samples the box's resource use every 15 s (CPU % from /proc/stat deltas, memory
 * from /proc/meminfo, disk use of / and /srv/freehold via statfs, the CPU temperature from
 * /sys/class/thermal or hwmon) and keeps, in memory only, the last hour of samples and 24 hours of
 * one-minute means. A restart of freehold-web starts the history afresh: nothing is written to disk
 * (no wear on an SD card, nothing to migrate), which suits a "how is the box doing" chart. These
 * files are readable by the unprivileged web user, so the agent is not involved and preview mode
 * shows the real figures of the machine it runs on.
 */

export const SAMPLE_MS = 15_000;
export const MINUTE_MS = 60_000;
const RECENT = Math.ceil((60 * MINUTE_MS) / SAMPLE_MS); // 1 h of raw samples
const HISTORY = 24 * 60; // 24 h of minutes

export interface Sources {
  /** Where proc/ and sys/ are ("/" on the box; a temp dir in tests). */
  root: string;
  /** The filesystems charted as "disk" and "data" (absent data volume: null). */
  disk: string;
  data: string;
}

export const BOX_SOURCES: Sources = { root: "/", disk: "/", data: "/srv/freehold" };

export interface Latest {
  at: number;
  cpu: number | null;
  memory: { usedBytes: number; totalBytes: number } | null;
  disk: { usedBytes: number; totalBytes: number } | null;
  data: { usedBytes: number; totalBytes: number } | null;
  tempC: number | null;
}

async function text(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return null;
  }
}

async function thermal(root: string): Promise<ThermalReading[]> {
  const readings: ThermalReading[] = [];
  const zones = path.join(root, "sys/class/thermal");
  for (const name of (await readdir(zones).catch(() => [])).filter((n) => n.startsWith("thermal_zone"))) {
    const [type, temp] = await Promise.all([
      text(path.join(zones, name, "type")),
      text(path.join(zones, name, "temp")),
    ]);
    if (temp !== null) readings.push({ type: (type ?? "").trim(), milliC: Number(temp.trim()) });
  }
  if (readings.length > 0) return readings;
  const hwmon = path.join(root, "sys/class/hwmon");
  for (const name of await readdir(hwmon).catch(() => [])) {
    const [type, temp] = await Promise.all([
      text(path.join(hwmon, name, "name")),
      text(path.join(hwmon, name, "temp1_input")),
    ]);
    if (temp !== null) readings.push({ type: (type ?? "").trim(), milliC: Number(temp.trim()) });
  }
  return readings;
}

async function fsUse(dir: string) {
  try {
    return diskPercent(await statfs(dir));
  } catch {
    return null;
  }
}

/** One reading of everything; `previousCpu` is the last /proc/stat reading (CPU % needs two). */
export async function collect(
  sources: Sources,
  previousCpu: CpuTimes | null,
  now = Date.now(),
): Promise<{ sample: Sample; latest: Latest; cpu: CpuTimes | null }> {
  const [stat, meminfo, temps, disk, data] = await Promise.all([
    text(path.join(sources.root, "proc/stat")),
    text(path.join(sources.root, "proc/meminfo")),
    thermal(sources.root),
    fsUse(sources.disk),
    fsUse(sources.data),
  ]);
  const cpu = stat ? parseProcStat(stat) : null;
  const busy = cpuPercent(previousCpu, cpu);
  const mem = meminfo ? parseMeminfo(meminfo) : null;
  const memory = mem ? { usedBytes: mem.totalBytes - mem.availableBytes, totalBytes: mem.totalBytes } : null;
  const tempC = pickTemperature(temps);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  return {
    cpu,
    sample: {
      t: now,
      cpu: busy === null ? null : r1(busy),
      mem: memory ? r1((100 * memory.usedBytes) / memory.totalBytes) : null,
      disk: disk ? r1(disk.percent) : null,
      data: data ? r1(data.percent) : null,
      temp: tempC,
    },
    latest: {
      at: now,
      cpu: busy === null ? null : r1(busy),
      memory,
      disk: disk ? { usedBytes: disk.usedBytes, totalBytes: disk.totalBytes } : null,
      data: data ? { usedBytes: data.usedBytes, totalBytes: data.totalBytes } : null,
      tempC,
    },
  };
}

export class Sampler {
  readonly recent = new Ring<Sample>(RECENT);
  readonly history = new Ring<Sample>(HISTORY);
  latest: Latest | null = null;
  private cpu: CpuTimes | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sources: Sources = BOX_SOURCES,
    readonly intervalMs = SAMPLE_MS,
  ) {}

  /** Takes one sample; when a minute has passed, its mean goes into the 24-hour history. */
  async tick(now = Date.now()): Promise<void> {
    const { sample, latest, cpu } = await collect(this.sources, this.cpu, now);
    this.cpu = cpu;
    this.latest = latest;
    const last = this.recent.toArray().at(-1);
    const minute = Math.floor(now / MINUTE_MS);
    if (last && Math.floor(last.t / MINUTE_MS) !== minute) {
      const done = this.recent
        .toArray()
        .filter((s) => Math.floor(s.t / MINUTE_MS) === Math.floor(last.t / MINUTE_MS));
      for (const point of downsample(done, MINUTE_MS)) this.history.push(point);
    }
    this.recent.push(sample);
  }

  start(): void {
    if (this.timer) return;
    // A first reading at once (memory, disk, temperature), the first CPU figure a second later.
    void this.tick().then(() => setTimeout(() => void this.tick().catch(() => undefined), 1000).unref());
    this.timer = setInterval(() => void this.tick().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** 24 h at one point a minute, then the samples of the minute not yet folded in. */
  points(): Sample[] {
    const history = this.history.toArray();
    const after = history.length > 0 ? (history.at(-1)?.t ?? 0) + MINUTE_MS : 0;
    return [...history, ...this.recent.toArray().filter((s) => s.t >= after)];
  }
}

const global = globalThis as unknown as { freeholdSampler?: Sampler };

/** The process's one sampler, started on first use (scripts/server.ts starts it at boot). */
export function sampler(): Sampler {
  if (!global.freeholdSampler) {
    global.freeholdSampler = new Sampler();
    global.freeholdSampler.start();
  }
  return global.freeholdSampler;
}
