import type { AgentOnlyOpName, OpName } from "../../_schemas/ops";
import type { AgentOp } from "../host";
import type { PlanAgentOp } from "./common";
import { firewallApply } from "./firewall-apply";
import { firewallConfirm } from "./firewall-confirm";
import { hostnameSet } from "./hostname-set";
import { modelPull } from "./model-pull";
import { nodeInstall } from "./node-install";
import { sshConfigure } from "./ssh-configure";
import { systemHarden } from "./system-harden";
import { updatesConfigure } from "./updates-configure";
import { userEnsure } from "./user-ensure";
import { volumeEncrypt } from "./volume-encrypt";
import { volumeStatus } from "./volume-status";
import { volumeUnlock } from "./volume-unlock";

/**
 * The plan ops the agent implements. backup.configure is not here yet: the agent answers
 * "unsupported" for it, and the preview keeps its sketch in plan/ops.ts.
 */
export const PLAN_AGENT_OPS = {
  "user.ensure": userEnsure,
  "hostname.set": hostnameSet,
  "volume.encrypt": volumeEncrypt,
  "firewall.apply": firewallApply,
  "ssh.configure": sshConfigure,
  "updates.configure": updatesConfigure,
  "system.harden": systemHarden,
  "node.install": nodeInstall,
  "model.pull": modelPull,
} satisfies { [N in OpName]?: PlanAgentOp<N> };

export type AgentOpName = keyof typeof PLAN_AGENT_OPS | AgentOnlyOpName;

/** The closed registry: every operation the agent runs, by name. Nothing else can be asked of it. */
export const AGENT_OPS: Readonly<Record<AgentOpName, AgentOp>> = Object.freeze({
  ...PLAN_AGENT_OPS,
  "volume.unlock": volumeUnlock,
  "volume.status": volumeStatus,
  "firewall.confirm": firewallConfirm,
} as Record<AgentOpName, AgentOp>);

export function isAgentOp(name: string): name is AgentOpName {
  return Object.hasOwn(AGENT_OPS, name);
}
