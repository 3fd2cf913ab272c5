import Link from "next/link";
import { buildDraftPlan, PlanBuildError } from "../../../_server/setup";
import { readEnv } from "../../../lib/env";
import { commandsOf, describeStep, displayCommand } from "../../../lib/plan/ops";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { CreatePlanButton } from "./create-plan";

export const metadata = { title: "Review · Freehold" };

export default async function ReviewPage() {
  const session = await requireWizard();
  const preview = readEnv().FREEHOLD_MODE === "preview";
  let built: Awaited<ReturnType<typeof buildDraftPlan>>["built"] | null = null;
  let problem: string | null = null;
  try {
    built = (await buildDraftPlan(session.owner.id)).built;
  } catch (error) {
    if (!(error instanceof PlanBuildError)) throw error;
    problem = error.message;
  }
  return (
    <StepShell step="review" title="Review the plan">
      {problem || !built ? (
        <p role="alert">
          {problem} <Link href="/setup/nodes">Go back</Link>
        </p>
      ) : (
        <>
          <p className="lede">
            {built.steps.length} steps, in this order. Each is recorded before and after it runs, so a power
            cut resumes where it stopped.
            {preview && " Preview mode: these are the exact commands each step would run on the appliance."}
          </p>
          <ol className="plan" data-testid="plan-steps">
            {built.steps.map((step, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: steps are positional
              <li key={i} data-op={step.op}>
                <strong>{step.op}</strong>: {describeStep(step)}
                <pre className="commands">
                  {commandsOf(step).map(displayCommand).join("\n") || "(nothing to run)"}
                </pre>
              </li>
            ))}
          </ol>
          <CreatePlanButton />
        </>
      )}
    </StepShell>
  );
}
