import { NextResponse } from "next/server";
import { CreatePlanSchema } from "../../../_schemas/wizard";
import { handler, problem } from "../../../_server/http";
import { currentOwner } from "../../../_server/session";
import { createPlan, currentPlan, PlanBuildError, resumeIfApplying } from "../../../_server/setup";
import { wizardClosed } from "../../../_server/wizard-guard";
import { isRunning } from "../../../lib/plan/engine";
import { noteUiRequest } from "../../../lib/plan/reachability";

/** Review → create the plan (and the recovery-kit secrets). */
export const POST = handler(CreatePlanSchema, { auth: true }, async (_input, { session, facts }) => {
  const closed = await wizardClosed();
  if (closed) return closed;
  try {
    await createPlan(session.owner, facts.remoteAddr);
  } catch (error) {
    if (error instanceof PlanBuildError) return problem(409, "conflict", error.message);
    throw error;
  }
  return NextResponse.json({ ok: true, next: "/setup/recovery-kit" });
});

/** Progress of the setup plan, polled by the apply page; resumes the engine after a restart. */
export async function GET(): Promise<Response> {
  const session = await currentOwner();
  if (!session) return problem(401, "unauthenticated", "Sign in first.");
  noteUiRequest();
  await resumeIfApplying();
  const plan = await currentPlan();
  if (!plan) return problem(404, "not-found", "No plan yet.");
  return NextResponse.json(
    {
      ok: true,
      id: plan.id,
      status: plan.status,
      preview: plan.preview,
      running: isRunning(plan.id),
      kitConfirmed: plan.kitConfirmedAt !== null,
      steps: plan.steps.map((s) => ({
        position: s.position,
        op: s.op,
        state: s.state,
        attempts: s.attempts,
        error: s.error,
        log: s.log,
      })),
    },
    { headers: { "cache-control": "no-store" } },
  );
}
