import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  cpuPercent,
  diskPercent,
  parseMeminfo,
  parseProcStat,
  pickTemperature,
} from "../../../app/lib/metrics/proc";
import { collect, MINUTE_MS, Sampler } from "../../../app/lib/metrics/sampler";
import { downsample, Ring, type Sample, sparklinePath } from "../../../app/lib/metrics/series";

// /proc/stat as a 4-core box prints it (Linux 6.12), two readings 10 s apart.
const STAT_1 = `cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0
cpu0 1393280 32966 540780 5765830 2237 0 20430 0 30000 0
intr 1462898 0 9 0
ctxt 8372616
btime 1735800000
`;
const STAT_2 = `cpu  10132453 290696 3084919 46829933 16733 0 25200 0 175700 0
cpu0 1393380 32966 540830 5766200 2240 0 20431 0 30020 0
`;

const MEMINFO = `MemTotal:        8049980 kB
MemFree:          402336 kB
MemAvailable:    5038580 kB
Buffers:          290468 kB
Cached:          4189576 kB
SwapCached:            0 kB
`;

const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-metrics-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the kernel's figures", () => {
  it("CPU % from two /proc/stat readings (iowait counts as idle; guest is inside user)", () => {
    const a = parseProcStat(STAT_1);
    const b = parseProcStat(STAT_2);
    expect(a).toEqual({
      total: 10132153 + 290696 + 3084719 + 46828483 + 16683 + 25195,
      idle: 46828483 + 16683,
    });
    // busy: 300 user + 200 system + 5 softirq = 505 of 505 + 1450 idle + 50 iowait = 2005
    expect(cpuPercent(a, b)).toBeCloseTo((100 * 505) / 2005, 6);
    expect(cpuPercent(b, b)).toBeNull();
    expect(cpuPercent(null, b)).toBeNull();
    expect(parseProcStat("intr 1 2 3\n")).toBeNull();
  });

  it("memory in use is MemTotal − MemAvailable", () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalBytes: 8049980 * 1024, availableBytes: 5038580 * 1024 });
    expect(parseMeminfo("MemTotal: 1 kB\n")).toBeNull();
  });

  it("this machine's own /proc files parse", () => {
    expect(parseProcStat(readFileSync("/proc/stat", "utf8"))?.total).toBeGreaterThan(0);
    expect(parseMeminfo(readFileSync("/proc/meminfo", "utf8"))?.totalBytes).toBeGreaterThan(0);
  });

  it("temperature: a CPU sensor first, else the hottest plausible zone, else null", () => {
    expect(
      pickTemperature([
        { type: "acpitz", milliC: 27800 },
        { type: "x86_pkg_temp", milliC: 51250 },
        { type: "iwlwifi_1", milliC: 60000 },
      ]),
    ).toBe(51.3);
    expect(pickTemperature([{ type: "cpu-thermal", milliC: 48686 }])).toBe(48.7);
    expect(
      pickTemperature([
        { type: "acpitz", milliC: 27800 },
        { type: "pch_cannonlake", milliC: 41000 },
      ]),
    ).toBe(41);
    expect(pickTemperature([{ type: "x86_pkg_temp", milliC: 255_000 }])).toBeNull();
    expect(pickTemperature([])).toBeNull();
  });

  it("disk use as df computes it (reserved blocks are not free to use)", () => {
    const d = diskPercent({ blocks: 1000, bfree: 300, bavail: 250, bsize: 4096 });
    expect(d?.percent).toBeCloseTo((100 * 700) / 950, 6);
    expect(d?.usedBytes).toBe(700 * 4096);
    expect(diskPercent({ blocks: 0, bfree: 0, bavail: 0, bsize: 4096 })).toBeNull();
  });
});

function fakeRoot(stat: string, zones: [string, string][]): string {
  const root = mkdtempSync(path.join(tmp, "root-"));
  mkdirSync(path.join(root, "proc"));
  writeFileSync(path.join(root, "proc/stat"), stat);
  writeFileSync(path.join(root, "proc/meminfo"), MEMINFO);
  zones.forEach(([type, temp], i) => {
    const dir = path.join(root, `sys/class/thermal/thermal_zone${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "type"), `${type}\n`);
    writeFileSync(path.join(dir, "temp"), `${temp}\n`);
  });
  return root;
}

describe("one reading of everything", () => {
  it("reads the files under a root; a missing data volume and missing sensors are null", async () => {
    const root = fakeRoot(STAT_2, [["cpu-thermal", "48686"]]);
    const first = await collect(
      { root, disk: tmp, data: path.join(tmp, "no-such-dir") },
      parseProcStat(STAT_1),
      1000,
    );
    expect(first.sample).toMatchObject({ t: 1000, cpu: 25.2, mem: 37.4, data: null, temp: 48.7 });
    expect(first.sample.disk).toBeGreaterThan(0);
    expect(first.latest.memory).toEqual({
      usedBytes: (8049980 - 5038580) * 1024,
      totalBytes: 8049980 * 1024,
    });
    const bare = await collect({ root: fakeRoot(STAT_1, []), disk: tmp, data: tmp }, null, 2000);
    expect(bare.sample).toMatchObject({ cpu: null, temp: null });
    expect(bare.sample.data).toBe(bare.sample.disk);
  });

  it("the sampler folds each finished minute into the 24-hour history", async () => {
    const s = new Sampler({ root: fakeRoot(STAT_1, []), disk: tmp, data: tmp });
    const t0 = 100 * MINUTE_MS;
    for (let i = 0; i < 9; i++) await s.tick(t0 + i * 15_000); // 2 min 0 s of samples
    expect(s.history.toArray().map((p) => p.t)).toEqual([t0, t0 + MINUTE_MS]);
    expect(s.points().map((p) => p.t)).toEqual([t0, t0 + MINUTE_MS, t0 + 2 * MINUTE_MS]);
    expect(s.latest?.memory?.totalBytes).toBe(8049980 * 1024);
  });
});

describe("series", () => {
  it("the ring keeps the newest items, oldest first", () => {
    const r = new Ring<number>(3);
    for (const n of [1, 2, 3, 4, 5]) r.push(n);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.size).toBe(3);
    expect(() => new Ring(0)).toThrow();
  });

  const sample = (t: number, cpu: number | null, temp: number | null = null): Sample => ({
    t,
    cpu,
    mem: 50,
    disk: 10,
    data: null,
    temp,
  });

  it("downsamples to one mean per minute, nulls ignored, empty series null", () => {
    const points = downsample(
      [sample(60_000, 10, 40), sample(75_000, 20), sample(105_000, null, 42), sample(125_000, 90)],
      MINUTE_MS,
    );
    expect(points).toEqual([
      { t: 60_000, cpu: 15, mem: 50, disk: 10, data: null, temp: 41 },
      { t: 120_000, cpu: 90, mem: 50, disk: 10, data: null, temp: null },
    ]);
    expect(downsample([], MINUTE_MS)).toEqual([]);
  });

  it("24 hours of 15-second samples become 1440 points", () => {
    const day = Array.from({ length: 24 * 60 * 4 }, (_, i) => sample(i * 15_000, i % 100));
    expect(downsample(day, MINUTE_MS)).toHaveLength(1440);
  });

  it("draws a sparkline path: top is max, gaps break the line, a lone point is a dash", () => {
    const box = { width: 100, height: 20, from: 0, to: 100, min: 0, max: 100 };
    expect(
      sparklinePath(
        [
          { t: 0, v: 0 },
          { t: 50, v: 100 },
          { t: 60, v: null },
          { t: 100, v: 50 },
        ],
        box,
      ),
    ).toBe("M0,20L50,0M100,10L100,10");
    expect(sparklinePath([{ t: 10, v: 150 }], box)).toBe("M10,0L12,0");
    expect(sparklinePath([], box)).toBe("");
  });
});
