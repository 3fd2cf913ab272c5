import { NextResponse } from "next/server";
import { backupStatus, systemStatus } from "../../../_server/dashboard";
import { problem } from "../../../_server/http";
import { currentOwner } from "../../../_server/session";

/** system.status and backup.status for the dashboard's polling (after a restart or "back up now"). */
export async function GET(request: Request): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  const fresh = new URL(request.url).searchParams.get("fresh") === "1";
  const [system, backup] = await Promise.all([systemStatus(fresh), backupStatus()]);
  return NextResponse.json({ ok: true, system, backup }, { headers: { "cache-control": "no-store" } });
}
