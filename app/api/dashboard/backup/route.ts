import { NextResponse } from "next/server";
import { BackupStartBodySchema } from "../../../_schemas/dashboard";
import { startBackup } from "../../../_server/dashboard";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { audit } from "../../../lib/audit";
import { readEnv } from "../../../lib/env";
import { Throttle } from "../../../lib/http/throttle";
import { AgentError } from "../../../lib/plan/agent-executor";

const throttle = new Throttle(3, 10 * 60_000);

/**
 * "Back up now": the agent starts freehold-backup.service and answers as soon as it runs; the
 * backup itself (minutes to hours) goes on in that unit. The page then polls /api/dashboard/status.
 */
export const POST = handler(BackupStartBodySchema, { auth: true }, async (_body, { facts }) => {
  if (readEnv().FREEHOLD_MODE !== "appliance")
    return problem(409, "conflict", "Preview mode: backups run on the appliance only.");
  const wait = throttle.take("backup");
  if (wait > 0) return problem(429, "rate-limited", `Try again in ${Math.ceil(wait / 1000)} s.`);
  try {
    const result = await startBackup();
    await audit(db(), {
      actor: "owner",
      action: result.verified ? "backup.started" : "backup.start.failed",
      remoteAddr: facts.remoteAddr,
      detail: { state: result.state },
    });
    if (!result.verified)
      return problem(502, "agent", "systemd did not start the backup; see freehold-backup.service's log.");
    return NextResponse.json({ ok: true, state: result.state }, { status: 202 });
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    await audit(db(), {
      actor: "owner",
      action: "backup.start.failed",
      remoteAddr: facts.remoteAddr,
      detail: { message: error.message },
    });
    return problem(error.problem === "failed" ? 422 : 502, "agent", error.message);
  }
});
