import { NextResponse } from "next/server";
import { ConfirmKitSchema } from "../../../_schemas/wizard";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { currentPlan, executor } from "../../../_server/setup";
import { wizardClosed } from "../../../_server/wizard-guard";
import { audit } from "../../../lib/audit";
import { ensureRunning } from "../../../lib/plan/engine";

/** The owner saved the recovery kit: record it and start applying the plan. */
export const POST = handler(ConfirmKitSchema, { auth: true }, async (_input, { facts }) => {
  const closed = await wizardClosed();
  if (closed) return closed;
  const plan = await currentPlan();
  if (plan?.status !== "draft")
    return problem(409, "conflict", "There is no plan waiting for its recovery kit.");
  const started = await db().plan.updateMany({
    where: { id: plan.id, status: "draft", kitConfirmedAt: null },
    data: { kitConfirmedAt: new Date(), status: "applying" },
  });
  if (started.count !== 1) return problem(409, "conflict", "The plan was confirmed already.");
  await audit(db(), {
    actor: "owner",
    action: "kit.confirmed",
    target: plan.id,
    remoteAddr: facts.remoteAddr,
  });
  await audit(db(), {
    actor: "owner",
    action: "plan.applying",
    target: plan.id,
    remoteAddr: facts.remoteAddr,
  });
  void ensureRunning(db(), plan.id, executor());
  return NextResponse.json({ ok: true, next: "/setup/apply" });
});
