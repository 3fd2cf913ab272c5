import { NextResponse } from "next/server";
import { ServiceLogsQuerySchema } from "../../../_schemas/dashboard";
import { serviceLogs } from "../../../_server/dashboard";
import { fieldErrors, problem } from "../../../_server/http";
import { currentOwner } from "../../../_server/session";
import { readEnv } from "../../../lib/env";
import { Throttle } from "../../../lib/http/throttle";
import { AgentError } from "../../../lib/plan/agent-executor";

const throttle = new Throttle(30, 60_000);

/** GET ?unit=ssh.service&lines=100: the unit's last journal lines (the agent checks the allowlist). */
export async function GET(request: Request): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  const params = new URL(request.url).searchParams;
  const query = ServiceLogsQuerySchema.safeParse({
    unit: params.get("unit") ?? undefined,
    lines: params.get("lines") ?? undefined,
  });
  if (!query.success)
    return problem(422, "invalid", "That is not a service name.", { fields: fieldErrors(query.error) });
  if (readEnv().FREEHOLD_MODE !== "appliance")
    return problem(
      409,
      "conflict",
      "Preview mode: no Freehold services run here, so there are no logs to show.",
    );
  const wait = throttle.take("logs");
  if (wait > 0)
    return problem(429, "rate-limited", `Too many log reads; try again in ${Math.ceil(wait / 1000)} s.`);
  try {
    const logs = await serviceLogs(query.data.unit, query.data.lines);
    return NextResponse.json({ ok: true, ...logs }, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    if (error instanceof AgentError && error.problem === "failed")
      return problem(403, "forbidden", error.message);
    if (error instanceof AgentError) return problem(502, "agent", error.message);
    throw error;
  }
}
