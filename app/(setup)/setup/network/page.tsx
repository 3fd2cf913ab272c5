import os from "node:os";
import { readDraft, recommendation } from "../../../_server/setup";
import { catalogNodeById } from "../../../lib/catalog/local";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { NetworkForm } from "./network-form";

export const metadata = { title: "Network · Freehold" };

export default async function NetworkPage() {
  await requireWizard();
  const draft = await readDraft();
  const rec = await recommendation(draft);
  const nodes = (rec?.nodes ?? [])
    .filter((n) => n.chosen && n.fit !== "unsuitable")
    .map((n) => {
      const node = catalogNodeById(n.id);
      return {
        id: n.id,
        name: n.name,
        publicPorts: (node?.ports ?? [])
          .filter((p) => p.exposure === "public")
          .map((p) => `${p.port}/${p.protocol} ${p.purpose}`),
        lanPorts: (node?.ports ?? [])
          .filter((p) => p.exposure === "lan")
          .map((p) => `${p.port}/${p.protocol} ${p.purpose}`),
      };
    });
  const fallback =
    os
      .hostname()
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .slice(0, 63) || "freehold";
  return (
    <StepShell step="network" title="Name and reach">
      <NetworkForm
        nodes={nodes}
        initial={draft.network ?? { hostname: fallback, ssh: "lan", exposure: {} }}
      />
    </StepShell>
  );
}
