import { NextResponse } from "next/server";
import { UpdatePolicySchema } from "../../../../_schemas/dashboard";
import { handler, problem } from "../../../../_server/http";
import { currentOwner } from "../../../../_server/session";
import {
  changeUpdatePolicy,
  currentUpdatePolicy,
  latestChange,
  resumeChange,
  SettingBusyError,
} from "../../../../_server/settings";
import { Throttle } from "../../../../lib/http/throttle";

const throttle = new Throttle(10, 10 * 60_000);

/** The update policy in force and the latest dashboard change (its one step's state and log). */
export async function GET(): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  await resumeChange();
  const [policy, change] = await Promise.all([currentUpdatePolicy(), latestChange("updates")]);
  const step = change?.steps[0];
  return NextResponse.json(
    {
      ok: true,
      policy,
      change: change
        ? {
            id: change.id,
            status: change.status,
            preview: change.preview,
            step: step ? { op: step.op, state: step.state, error: step.error, log: step.log } : null,
          }
        : null,
    },
    { headers: { "cache-control": "no-store" } },
  );
}

/** A new update policy: a one-step plan (updates.configure) run by the wizard's plan engine. */
export const POST = handler(UpdatePolicySchema, { auth: true }, async (policy, { facts }) => {
  const wait = throttle.take("updates");
  if (wait > 0) return problem(429, "rate-limited", `Try again in ${Math.ceil(wait / 1000)} s.`);
  try {
    const planId = await changeUpdatePolicy(policy, facts.remoteAddr);
    return NextResponse.json({ ok: true, planId }, { status: 202 });
  } catch (error) {
    if (error instanceof SettingBusyError) return problem(409, "busy", error.message);
    throw error;
  }
});
