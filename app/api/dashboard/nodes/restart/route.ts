import { NextResponse } from "next/server";
import { NodeRestartBodySchema } from "../../../../_schemas/dashboard";
import { restartNode } from "../../../../_server/dashboard";
import { db } from "../../../../_server/db";
import { handler, problem } from "../../../../_server/http";
import { audit } from "../../../../lib/audit";
import { readEnv } from "../../../../lib/env";
import { Throttle } from "../../../../lib/http/throttle";
import { AgentError } from "../../../../lib/plan/agent-executor";

const throttle = new Throttle(6, 10 * 60_000);

/** Restart an installed node (the agent refuses any other id) and wait for it to answer again. */
export const POST = handler(NodeRestartBodySchema, { auth: true }, async ({ id }, { facts }) => {
  if (readEnv().FREEHOLD_MODE !== "appliance")
    return problem(409, "conflict", "Preview mode: no node runs here, so there is nothing to restart.");
  const wait = throttle.take(`node:${id}`);
  if (wait > 0)
    return problem(
      429,
      "rate-limited",
      `${id} was restarted several times just now; try again in ${Math.ceil(wait / 1000)} s.`,
    );
  try {
    const result = await restartNode(id);
    await audit(db(), {
      actor: "owner",
      action: result.verified ? "node.restarted" : "node.restart.failed",
      target: id,
      remoteAddr: facts.remoteAddr,
      ...(result.problems ? { detail: { problems: result.problems } } : {}),
    });
    return NextResponse.json({ ok: true, verified: result.verified, problems: result.problems });
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    await audit(db(), {
      actor: "owner",
      action: "node.restart.failed",
      target: id,
      remoteAddr: facts.remoteAddr,
      detail: { message: error.message },
    });
    return problem(
      error.problem === "failed" || error.problem === "invalid-input" ? 422 : 502,
      "agent",
      error.message,
    );
  }
});
