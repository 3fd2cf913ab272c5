"use client";
import { useEffect, useState } from "react";
import { formatBytes } from "../../lib/format";
import type { Latest } from "../../lib/metrics/sampler";
import { type Sample, type Series, sparklinePath } from "../../lib/metrics/series";

/**
 * Resource use over time: one small SVG sparkline per figure (no chart library), refreshed every
 * 30 s from /api/dashboard/metrics. The first figures come with the page.
 */

export interface MetricsData {
  points: Sample[];
  latest: Latest | null;
}

const WIDTH = 320;
const HEIGHT = 64;

function span(points: Sample[]): string {
  const first = points[0]?.t;
  const last = points.at(-1)?.t;
  if (first === undefined || last === undefined) return "now";
  const minutes = Math.round((last - first) / 60_000);
  return minutes >= 120 ? `${Math.round(minutes / 60)} hours` : `${Math.max(minutes, 1)} minutes`;
}

function Chart(props: {
  series: Series;
  label: string;
  unit: string;
  points: Sample[];
  max: number;
  detail?: string | null;
  absent: string;
}) {
  const values = props.points.map((p) => ({ t: p.t, v: p[props.series] }));
  const known = values.filter((v) => v.v !== null);
  const last = known.at(-1)?.v ?? null;
  const from = props.points[0]?.t ?? 0;
  const to = Math.max(props.points.at(-1)?.t ?? 1, from + 1);
  const max = Math.max(props.max, ...known.map((v) => v.v ?? 0));
  const d = sparklinePath(values, { width: WIDTH, height: HEIGHT, from, to, min: 0, max });
  return (
    <figure className="chart" data-testid={`chart-${props.series}`}>
      <figcaption>
        {props.label}:{" "}
        <strong data-testid={`value-${props.series}`}>
          {last === null ? "—" : `${last.toFixed(props.unit === "%" ? 0 : 1)} ${props.unit}`}
        </strong>
        {props.detail ? <span className="help"> {props.detail}</span> : null}
      </figcaption>
      {known.length > 0 ? (
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          width="100%"
          height={HEIGHT}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${props.label} over the last ${span(props.points)}, now ${last === null ? "unknown" : `${Math.round(last)} ${props.unit}`}`}
        >
          <line x1="0" y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} className="axis" />
          <path d={d} className="line" vectorEffect="non-scaling-stroke" />
        </svg>
      ) : (
        <p className="help">{props.absent}</p>
      )}
    </figure>
  );
}

export function ResourcesCard(props: { initial: MetricsData }) {
  const [data, setData] = useState(props.initial);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      const r = await fetch("/api/dashboard/metrics", { cache: "no-store" }).catch(() => null);
      const json = (await r?.json().catch(() => null)) as ({ ok?: boolean } & MetricsData) | null;
      if (!stop && json?.ok) setData({ points: json.points, latest: json.latest });
    };
    // Soon after the page (the first CPU figure needs two readings), then every 30 s.
    const first = setTimeout(load, 2_000);
    const timer = setInterval(load, 30_000);
    return () => {
      stop = true;
      clearTimeout(first);
      clearInterval(timer);
    };
  }, []);
  const { points, latest } = data;
  const used = (x: { usedBytes: number; totalBytes: number } | null | undefined) =>
    x ? `${formatBytes(x.usedBytes)} of ${formatBytes(x.totalBytes)}` : null;
  return (
    <div className="charts" data-testid="resources" data-points={points.length}>
      <Chart series="cpu" label="CPU" unit="%" max={100} points={points} absent="Measuring…" />
      <Chart
        series="mem"
        label="Memory"
        unit="%"
        max={100}
        points={points}
        detail={used(latest?.memory)}
        absent="Unknown."
      />
      <Chart
        series="disk"
        label="System disk"
        unit="%"
        max={100}
        points={points}
        detail={used(latest?.disk)}
        absent="Unknown."
      />
      <Chart
        series="data"
        label="Data volume"
        unit="%"
        max={100}
        points={points}
        detail={used(latest?.data)}
        absent="No data volume is mounted at /srv/freehold."
      />
      <Chart
        series="temp"
        label="CPU temperature"
        unit="°C"
        max={90}
        points={points}
        absent="This machine reports no temperature sensor."
      />
    </div>
  );
}
