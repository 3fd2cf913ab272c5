/**
 * Resource samples over time: a bounded ring buffer and the downsampling that turns 15-second
 * samples into one point per minute (24 hours of them). Pure; sampler.ts owns the timer.
 */

export const SERIES = ["cpu", "mem", "disk", "data", "temp"] as const;
export type Series = (typeof SERIES)[number];

/** One moment: percentages (cpu, memory, / and /srv/freehold in use) and °C; null when unknown. */
export type Sample = { t: number } & Record<Series, number | null>;

export class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error("capacity must be a positive integer");
  }
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  get size(): number {
    return this.items.length;
  }
  /** Oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }
}

/**
 * One point per bucket of `bucketMs` (aligned to multiples of it), each series the mean of its
 * known values in the bucket (null when it had none), stamped with the bucket's start. Samples must
 * be in time order.
 */
export function downsample(samples: readonly Sample[], bucketMs: number): Sample[] {
  const out: Sample[] = [];
  let bucket: number | null = null;
  let sums: Record<Series, { sum: number; n: number }> | null = null;
  const flush = () => {
    if (bucket === null || !sums) return;
    const point = { t: bucket } as Sample;
    for (const s of SERIES) point[s] = sums[s].n > 0 ? round(sums[s].sum / sums[s].n) : null;
    out.push(point);
  };
  for (const sample of samples) {
    const b = Math.floor(sample.t / bucketMs) * bucketMs;
    if (b !== bucket) {
      flush();
      bucket = b;
      sums = Object.fromEntries(SERIES.map((s) => [s, { sum: 0, n: 0 }])) as Record<
        Series,
        { sum: number; n: number }
      >;
    }
    for (const s of SERIES) {
      const v = sample[s];
      if (v !== null && Number.isFinite(v) && sums) {
        sums[s].sum += v;
        sums[s].n++;
      }
    }
  }
  flush();
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The SVG path of a sparkline in a width × height box: x by time over [from, to], y by value over
 * [min, max] (top is max). A gap (null) breaks the line; a lone point is drawn as a short dash.
 */
export function sparklinePath(
  points: readonly { t: number; v: number | null }[],
  box: { width: number; height: number; from: number; to: number; min: number; max: number },
): string {
  const span = Math.max(box.to - box.from, 1);
  const range = Math.max(box.max - box.min, 1e-9);
  const x = (t: number) => ((t - box.from) / span) * box.width;
  const y = (v: number) =>
    box.height - ((Math.min(Math.max(v, box.min), box.max) - box.min) / range) * box.height;
  const parts: string[] = [];
  let run: string[] = [];
  const end = () => {
    if (run.length === 1) {
      const [px, py] = (run[0] ?? "0,0").split(",").map(Number) as [number, number];
      run.push(`${fmt(Math.min(px + 2, box.width))},${fmt(py)}`);
    }
    if (run.length > 0) parts.push(`M${run.join("L")}`);
    run = [];
  };
  for (const p of points) {
    if (p.v === null || !Number.isFinite(p.v) || p.t < box.from || p.t > box.to) {
      end();
      continue;
    }
    run.push(`${fmt(x(p.t))},${fmt(y(p.v))}`);
  }
  end();
  return parts.join("");
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();
