import type { AgentOnlyOpName, OpName } from "../../_schemas/ops";
import type { AgentOp } from "../host";
import { backupCheck } from "./backup-check";
import { backupConfigure } from "./backup-configure";
import { backupDrill } from "./backup-drill";
import { backupRun } from "./backup-run";
import { backupStart } from "./backup-start";
import { backupStatus } from "./backup-status";
import type { PlanAgentOp } from "./common";
import { firewallApply } from "./firewall-apply";
import { firewallConfirm } from "./firewall-confirm";
import { hostnameSet } from "./hostname-set";
import { modelPull } from "./model-pull";
import { nodeInstall } from "./node-install";
import { nodeRestart } from "./node-restart";
import { serviceLogs } from "./service-logs";
import { sshConfigure } from "./ssh-configure";
import { systemHarden } from "./system-harden";
import { systemStatus } from "./system-status";
import { updatesConfigure } from "./updates-configure";
import { userEnsure } from "./user-ensure";
import { volumeEncrypt } from "./volume-encrypt";
import { volumeStatus } from "./volume-status";
import { volumeTpm2 } from "./volume-tpm2";
import { volumeUnlock } from "./volume-unlock";

/**
 * The plan ops the agent implements: every op a plan can hold (the registry test checks it).
 */
export const PLAN_AGENT_OPS = {
  "user.ensure": userEnsure,
  "hostname.set": hostnameSet,
  "volume.encrypt": volumeEncrypt,
  "volume.tpm2": volumeTpm2,
  "firewall.apply": firewallApply,
  "ssh.configure": sshConfigure,
  "updates.configure": updatesConfigure,
  "system.harden": systemHarden,
  "backup.configure": backupConfigure,
  "node.install": nodeInstall,
  "model.pull": modelPull,
} satisfies { [N in OpName]: PlanAgentOp<N> };

export type AgentOpName = keyof typeof PLAN_AGENT_OPS | AgentOnlyOpName;

/** The closed registry: every operation the agent runs, by name. Nothing else can be asked of it. */
export const AGENT_OPS: Readonly<Record<AgentOpName, AgentOp>> = Object.freeze({
  ...PLAN_AGENT_OPS,
  "volume.unlock": volumeUnlock,
  "volume.status": volumeStatus,
  "firewall.confirm": firewallConfirm,
  "backup.run": backupRun,
  "backup.check": backupCheck,
  "backup.drill": backupDrill,
  "backup.status": backupStatus,
  "backup.start": backupStart,
  "system.status": systemStatus,
  "service.logs": serviceLogs,
  "node.restart": nodeRestart,
} as Record<AgentOpName, AgentOp>);

export function isAgentOp(name: string): name is AgentOpName {
  return Object.hasOwn(AGENT_OPS, name);
}
