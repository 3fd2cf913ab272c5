import { redirect } from "next/navigation";
import { type PlanStepInput, PlanStepInputSchema } from "../../../_schemas/ops";
import { currentPlan, resumeIfApplying } from "../../../_server/setup";
import { describeStep } from "../../../lib/plan/ops";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { ApplyProgress } from "./apply-progress";

export const metadata = { title: "Applying · Freehold" };

export default async function ApplyPage() {
  await requireWizard();
  await resumeIfApplying();
  const plan = await currentPlan();
  if (!plan) redirect("/setup/review");
  if (!plan.kitConfirmedAt) redirect("/setup/recovery-kit");
  const titles = plan.steps.map((s) => {
    const parsed = PlanStepInputSchema.safeParse({ op: s.op, input: JSON.parse(s.input) });
    return parsed.success ? describeStep(parsed.data as PlanStepInput) : s.op;
  });
  return (
    <StepShell step="apply" title="Applying the plan">
      {plan.preview && (
        <section className="card preview-banner" aria-label="Preview mode">
          <strong>Preview.</strong> Each step shows the commands it would run; nothing on this machine is
          changed.
        </section>
      )}
      <ApplyProgress titles={titles} />
    </StepShell>
  );
}
