import { NextResponse } from "next/server";
import { NodeRestartBodySchema } from "../../../../_schemas/dashboard";
import { restartNode } from "../../../../_server/dashboard";
import { db } from "../../../../_server/db";
import { handler, problem } from "../../../../_server/http";
import { currentOwner } from "../../../../_server/session";
import { unitsOf } from "../../../../agent/ops/node-units";
import { audit } from "../../../../lib/audit";
import { catalogNodeById } from "../../../../lib/catalog/local";
import { readEnv } from "../../../../lib/env";
import { Throttle } from "../../../../lib/http/throttle";
import { nodeRestarts, restartFailureMessage } from "../../../../lib/node-restarts";
import { AgentError } from "../../../../lib/plan/agent-executor";

const throttle = new Throttle(6, 10 * 60_000);

/** The state of the node's latest restart (`?id=`): restarting, done (verified or not) or failed; null if none. */
export async function GET(request: Request): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  const parsed = NodeRestartBodySchema.safeParse({ id: new URL(request.url).searchParams.get("id") });
  if (!parsed.success) return problem(422, "invalid", "Name an installed node (?id=).");
  return NextResponse.json(
    { ok: true, restart: nodeRestarts().get(parsed.data.id) },
    { headers: { "cache-control": "no-store" } },
  );
}

/**
 * Restart an installed node (the agent refuses any other id). Answers 202 at once with the state
 * "restarting" (systemctl can wait minutes for a slow unit); the page polls GET until it is done
 * or failed. A second request while one runs gets the running one.
 */
export const POST = handler(NodeRestartBodySchema, { auth: true }, async ({ id }, { facts }) => {
  if (readEnv().FREEHOLD_MODE !== "appliance")
    return problem(409, "conflict", "Preview mode: no node runs here, so there is nothing to restart.");
  const running = nodeRestarts().get(id);
  if (running?.state === "restarting")
    return NextResponse.json({ ok: true, restart: running }, { status: 202 });
  const wait = throttle.take(`node:${id}`);
  if (wait > 0)
    return problem(
      429,
      "rate-limited",
      `${id} was restarted several times just now; try again in ${Math.ceil(wait / 1000)} s.`,
    );
  const node = catalogNodeById(id);
  const { restart, settled } = nodeRestarts().start(
    id,
    () => restartNode(id),
    (error) => {
      if (!(error instanceof AgentError)) console.error(`freehold-web: node.restart ${id} failed`, error);
      return restartFailureMessage(
        node?.name ?? id,
        node ? unitsOf(node) : [],
        error instanceof AgentError ? error.message : "the agent's answer could not be read",
      );
    },
  );
  void settled.then((final) =>
    audit(db(), {
      actor: "owner",
      action: final.state === "done" && final.verified ? "node.restarted" : "node.restart.failed",
      target: id,
      remoteAddr: facts.remoteAddr,
      ...(final.state === "failed"
        ? { detail: { message: final.message } }
        : final.state === "done" && final.problems
          ? { detail: { problems: final.problems } }
          : {}),
    }).catch((error: unknown) => console.error("freehold-web: audit of node.restart failed", error)),
  );
  return NextResponse.json({ ok: true, restart }, { status: 202 });
});
