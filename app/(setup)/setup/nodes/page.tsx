import { readDraft, recommendation } from "../../../_server/setup";
import { catalogNodes, localNodes } from "../../../lib/catalog/local";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { NodesForm } from "./nodes-form";

export const metadata = { title: "Nodes · Freehold" };

export default async function NodesPage() {
  await requireWizard();
  const draft = await readDraft();
  const rec = await recommendation(draft);
  const catalog = catalogNodes()
    .filter((n) => n.id !== "ollama")
    .map((n) => ({
      id: n.id,
      name: n.name,
      summary: n.summary,
      heavy: n.heavy,
      local: n.origin === "local",
    }));
  // An invalid local nodes file is ignored; the owner who wrote it should know why.
  const { problem } = localNodes();
  return (
    <StepShell step="nodes" title="What should the box run?">
      <p className="lede">
        Each badge says whether it fits this hardware. What a choice needs is added for you.
      </p>
      {problem && <p role="alert">{problem}</p>}
      {rec ? (
        <NodesForm
          catalog={catalog}
          initial={rec}
          chosen={draft.nodes?.nodes ?? []}
          priceKwh={draft.nodes?.priceKwh ?? 0.3}
        />
      ) : (
        <p role="alert">The recommendations are not available right now; reload the page.</p>
      )}
    </StepShell>
  );
}
