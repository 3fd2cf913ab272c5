import type { CatalogNode } from "../../_schemas/catalog";
import type { HardwareProfile } from "../../_schemas/hardware";
import { OpInputSchemas, type PlanStepInput } from "../../_schemas/ops";
import type { VolumeState } from "../../_schemas/volume";
import { ModelsChoiceSchema, NodesChoiceSchema } from "../../_schemas/wizard";
import { needsDataVolume } from "../../agent/ops/node-install";
import { type Chosen, orderNodes, orderProblem } from "../catalog/order";
import { RecommendInputError, recommend } from "../recommend";
import { firewallStep, nodeInstallSteps } from "./build";
import { type SshExposure, setupNetworkChoice } from "./ssh-change";

/**
 * The dashboard's "Add a node" as a change plan: the wizard's node.install steps for the chosen
 * nodes and the dependencies not on the box yet, in dependency order, then the wizard's
 * firewall.apply rebuilt for every node on the box (installed and new) with the setup's network
 * choices and the SSH exposure in force. Modes and fit come from the wizard's recommendations for
 * this hardware, budgeted with what is installed: a node the wizard would call unsuitable here (the
 * architecture, memory or disk) is refused, with its reason. Pure: the server reads the plans, the
 * hardware and the volume, and stores and runs the steps.
 */

export interface InstalledNode {
  id: string;
  mode?: string | undefined;
}

/**
 * The nodes on the box: the node.install steps verified done, of any plan (the setup plan and the
 * dashboard's node additions), in the order they finished; a node installed twice counts once, with
 * its latest mode. `steps` are PlanStep rows (input as stored), oldest first.
 */
export function installedFromSteps(steps: readonly { op: string; input: string }[]): InstalledNode[] {
  const byId = new Map<string, InstalledNode>();
  for (const step of steps) {
    if (step.op !== "node.install") continue;
    let json: unknown;
    try {
      json = JSON.parse(step.input);
    } catch {
      continue;
    }
    const parsed = OpInputSchemas["node.install"].safeParse(json);
    if (!parsed.success) continue;
    byId.delete(parsed.data.id);
    byId.set(parsed.data.id, { id: parsed.data.id, ...(parsed.data.mode ? { mode: parsed.data.mode } : {}) });
  }
  return [...byId.values()];
}

export interface NodeAdditionContext {
  /** The catalog on offer (catalogNodes(): built-in and local). */
  catalog: readonly CatalogNode[];
  /** This box's hardware: the wizard's recommendations decide the modes and what fits. */
  profile: HardwareProfile;
  /** The SSH exposure in force (a dashboard change may have changed the setup's). */
  ssh: SshExposure | null;
  /** The data volume as the agent reports it; "preview" where there is no agent (nothing is run). */
  volume: VolumeState | "unknown" | "preview";
}

export type NodeAddition =
  | { ok: true; steps: PlanStepInput[]; added: InstalledNode[] }
  | { ok: false; reason: string };

const refuse = (reason: string): NodeAddition => ({ ok: false, reason });

export function buildNodeAddition(
  setupChoices: unknown,
  installed: readonly InstalledNode[],
  newIds: readonly string[],
  ctx: NodeAdditionContext,
): NodeAddition {
  const network = setupNetworkChoice(setupChoices);
  if (!network)
    return refuse(
      "The setup plan does not record its network choices, so the firewall's ports for the new node are not known here; nothing was changed.",
    );
  const ids = [...new Set(newIds)];
  if (ids.length === 0) return refuse("Choose at least one node to add.");
  const byId = (id: string) => ctx.catalog.find((n) => n.id === id);
  const installedIds = new Set(installed.map((n) => n.id));
  for (const id of ids) {
    const node = byId(id);
    if (!node) return refuse(`There is no node "${id}" in this Freehold's catalog.`);
    if (installedIds.has(id)) return refuse(`${node.name} is already installed.`);
  }
  const onBox: Chosen[] = [];
  for (const { id, mode } of installed) {
    const node = byId(id);
    if (!node) return refuse(`The installed node ${id} is not in this Freehold's catalog.`);
    onBox.push({ node, ...(mode ? { mode } : {}) });
  }

  // The wizard's recommendations for everything on the box plus the new nodes (and their models):
  // the same modes, the same fit, the dependencies the new nodes bring along.
  const draft = (setupChoices ?? {}) as Record<string, unknown>;
  const models = ModelsChoiceSchema.safeParse(draft.models);
  const nodesChoice = NodesChoiceSchema.safeParse(draft.nodes);
  let rec: ReturnType<typeof recommend>;
  try {
    rec = recommend(
      ctx.profile,
      {
        nodes: [...installed.map((n) => (n.mode ? `${n.id}:${n.mode}` : n.id)), ...ids],
        models: models.success ? models.data.models.map((m) => `${m.id}:${m.quant}`) : [],
        priceKwh: nodesChoice.success ? nodesChoice.data.priceKwh : 0.3,
      },
      ctx.catalog,
    );
  } catch (error) {
    if (error instanceof RecommendInputError) return refuse(`The nodes cannot be checked: ${error.message}.`);
    throw error;
  }
  const adding: Chosen[] = [];
  for (const r of rec.nodes) {
    if (!r.chosen || installedIds.has(r.id)) continue;
    const node = byId(r.id);
    if (!node) return refuse(`There is no node "${r.id}" in this Freehold's catalog.`);
    if (r.fit === "unsuitable") return refuse(`${node.name} cannot be added here: ${r.reason}.`);
    adding.push({ node, ...(r.mode ? { mode: r.mode } : {}) });
  }

  // node.install refuses these without the data volume mounted (the wizard always sets one up).
  const needVolume = adding.filter((c) => needsDataVolume(c.node)).map((c) => c.node.name);
  if (needVolume.length > 0) {
    if (draft.storage === undefined)
      return refuse(
        `${needVolume.join(", ")} keep${needVolume.length === 1 ? "s" : ""} its data on the data volume, and the setup plan records none.`,
      );
    if (ctx.volume !== "preview" && ctx.volume !== "unlocked")
      return refuse(
        `${needVolume.join(", ")} keep${needVolume.length === 1 ? "s" : ""} its data on the data volume, which is ${ctx.volume === "unknown" ? "not known to be mounted (the agent did not say)" : ctx.volume}: unlock it first (Data and encryption).`,
      );
  }

  const ordered = orderNodes([...onBox, ...adding]);
  if (!ordered.ok) return refuse(`The nodes cannot be installed: ${orderProblem(ordered)}.`);
  const newOnes = new Set(adding.map((c) => c.node.id));
  const steps: PlanStepInput[] = [
    ...nodeInstallSteps(
      ordered.order.filter((c) => newOnes.has(c.node.id)),
      installedIds.has("tor"),
    ),
    firewallStep({ ssh: ctx.ssh ?? network.ssh, exposure: network.exposure }, ordered.order),
  ];
  for (const step of steps) OpInputSchemas[step.op].parse(step.input);
  return {
    ok: true,
    steps,
    added: adding.map((c) => ({ id: c.node.id, ...(c.mode ? { mode: c.mode } : {}) })),
  };
}
