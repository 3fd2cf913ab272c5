import { readDraft, recommendation } from "../../../_server/setup";
import { MODELS } from "../../../lib/catalog/models";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { ModelsForm } from "./models-form";

export const metadata = { title: "Models · Freehold" };

export default async function ModelsPage() {
  await requireWizard();
  const draft = await readDraft();
  const rec = await recommendation(draft);
  const sizes: Record<string, Record<string, number>> = {};
  for (const m of MODELS) sizes[m.id] = Object.fromEntries(m.quants.map((q) => [q.quant, q.bytes]));
  return (
    <StepShell step="models" title="Local language models">
      <p className="lede">Optional. Each runs on this box only; nothing is sent elsewhere.</p>
      {rec ? (
        <ModelsForm
          initial={rec}
          nodes={draft.nodes?.nodes ?? []}
          price={draft.nodes?.priceKwh ?? 0.3}
          chosen={draft.models?.models ?? []}
          sizes={sizes}
        />
      ) : (
        <p role="alert">The recommendations are not available right now; reload the page.</p>
      )}
    </StepShell>
  );
}
