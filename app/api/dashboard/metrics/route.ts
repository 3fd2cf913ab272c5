import { NextResponse } from "next/server";
import { problem } from "../../../_server/http";
import { currentOwner } from "../../../_server/session";
import { sampler } from "../../../lib/metrics/sampler";

/**
 * The box's resource use: 24 h of one-minute means and the last minute's 15-second samples
 * (percentages; temperature in °C; null where unknown), and the latest absolute figures. Real in
 * preview mode too: the web process reads /proc and /sys itself.
 */
export async function GET(): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  const s = sampler();
  return NextResponse.json(
    { ok: true, intervalMs: s.intervalMs, points: s.points(), latest: s.latest },
    { headers: { "cache-control": "no-store" } },
  );
}
