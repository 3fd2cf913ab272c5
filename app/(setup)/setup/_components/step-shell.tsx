import Link from "next/link";
import type { ReactNode } from "react";
import { WIZARD_STEPS, type WizardStepId } from "../../../_schemas/wizard";

export function StepShell({
  step,
  title,
  children,
}: {
  step: WizardStepId;
  title: string;
  children: ReactNode;
}) {
  const index = WIZARD_STEPS.findIndex((s) => s.id === step);
  return (
    <>
      <nav aria-label="Setup steps" className="steps">
        <ol>
          {WIZARD_STEPS.map((s, i) => (
            <li
              key={s.id}
              aria-current={s.id === step ? "step" : undefined}
              className={i < index ? "done" : undefined}
            >
              {i < index && i < 7 ? <Link href={`/setup/${s.id}`}>{s.title}</Link> : <span>{s.title}</span>}
            </li>
          ))}
        </ol>
      </nav>
      <h1>{title}</h1>
      <p className="step-count">
        Step {index + 1} of {WIZARD_STEPS.length}
      </p>
      {children}
    </>
  );
}

export function FitBadge({ fit }: { fit: "recommended" | "possible" | "unsuitable" }) {
  const label = { recommended: "Recommended", possible: "Possible", unsuitable: "Does not fit" }[fit];
  return <span className={`badge fit-${fit}`}>{label}</span>;
}
