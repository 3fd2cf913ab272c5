import { NextResponse } from "next/server";
import { RetrySchema } from "../../../_schemas/wizard";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { currentPlan, executor } from "../../../_server/setup";
import { wizardClosed } from "../../../_server/wizard-guard";
import { audit } from "../../../lib/audit";
import { ensureRunning, retryStep } from "../../../lib/plan/engine";

export const POST = handler(RetrySchema, { auth: true }, async (input, { facts }) => {
  const closed = await wizardClosed();
  if (closed) return closed;
  const plan = await currentPlan();
  if (!plan || !(await retryStep(db(), plan.id, input.position))) {
    return problem(409, "conflict", "That step has not failed.");
  }
  await audit(db(), {
    actor: "owner",
    action: "plan.retry",
    target: `${plan.id}#${input.position}`,
    remoteAddr: facts.remoteAddr,
  });
  void ensureRunning(db(), plan.id, executor());
  return NextResponse.json({ ok: true });
});
