import { NextResponse } from "next/server";
import { AddNodesSchema } from "../../../../_schemas/dashboard";
import { installedNodes } from "../../../../_server/dashboard";
import { handler, problem } from "../../../../_server/http";
import { currentOwner } from "../../../../_server/session";
import {
  addNodes,
  describeChange,
  latestChange,
  resumeChange,
  SettingBusyError,
  SettingRefusedError,
} from "../../../../_server/settings";
import { Throttle } from "../../../../lib/http/throttle";
import { noteUiRequest } from "../../../../lib/plan/reachability";

const throttle = new Throttle(10, 10 * 60_000);

/**
 * The nodes on the box and the latest node addition (each step's state and log). The dashboard
 * polls this while an addition applies; its last step is a firewall.apply, so the poll is also the
 * browser's proof that the web UI is still reachable through the new firewall (the agent executor
 * then calls firewall.confirm, else the agent restores the previous rules).
 */
export async function GET(): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  noteUiRequest();
  await resumeChange();
  const [installed, change] = await Promise.all([installedNodes(), latestChange("nodes")]);
  return NextResponse.json(
    { ok: true, installed, change: describeChange(change) },
    { headers: { "cache-control": "no-store" } },
  );
}

/** Add catalog nodes: their node.install steps (with missing dependencies), then firewall.apply. */
export const POST = handler(AddNodesSchema, { auth: true }, async ({ ids }, { facts }) => {
  const wait = throttle.take("nodes.add");
  if (wait > 0) return problem(429, "rate-limited", `Try again in ${Math.ceil(wait / 1000)} s.`);
  try {
    const planId = await addNodes(ids, facts.remoteAddr);
    return NextResponse.json({ ok: true, planId }, { status: 202 });
  } catch (error) {
    if (error instanceof SettingBusyError) return problem(409, "busy", error.message);
    if (error instanceof SettingRefusedError) return problem(409, "refused", error.message);
    throw error;
  }
});
