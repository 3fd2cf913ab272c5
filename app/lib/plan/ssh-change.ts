import type { CatalogNode } from "../../_schemas/catalog";
import { OpInputSchemas, type PlanStepInput } from "../../_schemas/ops";
import { type NetworkChoice, NetworkChoiceSchema } from "../../_schemas/wizard";
import { type Chosen, orderNodes, orderProblem } from "../catalog/order";
import { networkSteps, type PlanContext } from "./build";

/**
 * The dashboard's SSH setting as a change plan: the same firewall.apply and ssh.configure steps,
 * in the same order, that the wizard's plan builder makes for the setup's network choices with only
 * `ssh` changed (the node exposures and the installed nodes stay as set up). Pure: the server reads
 * the setup plan and the owner, and stores and runs the steps.
 */

export type SshExposure = NetworkChoice["ssh"];

export interface SetupNetwork {
  /** The setup plan's `choices` (the wizard draft it was built from), as stored. */
  choices: unknown;
  /** The node.install inputs of the setup plan, in plan order. */
  installed: { id: string; mode?: string | undefined }[];
}

export type SshChange =
  | { ok: true; steps: PlanStepInput[]; network: Pick<NetworkChoice, "ssh" | "exposure"> }
  | { ok: false; reason: string };

/** The network choices the setup plan was built from, or null when they were not recorded. */
export function setupNetworkChoice(choices: unknown): NetworkChoice | null {
  if (typeof choices !== "object" || choices === null || !("network" in choices)) return null;
  const parsed = NetworkChoiceSchema.safeParse((choices as { network: unknown }).network);
  return parsed.success ? parsed.data : null;
}

export function buildSshChange(
  setup: SetupNetwork,
  owner: PlanContext["owner"],
  ssh: SshExposure,
  nodeById: (id: string) => CatalogNode | undefined,
): SshChange {
  const network = setupNetworkChoice(setup.choices);
  if (!network)
    return {
      ok: false,
      reason:
        "The setup plan does not record its network choices, so the firewall's other ports are not known here; nothing was changed.",
    };
  const chosen: Chosen[] = [];
  for (const { id, mode } of setup.installed) {
    const node = nodeById(id);
    if (!node) return { ok: false, reason: `The installed node ${id} is not in this Freehold's catalog.` };
    chosen.push({ node, ...(mode ? { mode } : {}) });
  }
  const ordered = orderNodes(chosen);
  if (!ordered.ok)
    return { ok: false, reason: `The installed nodes cannot be ordered: ${orderProblem(ordered)}.` };
  const changed = { ssh, exposure: network.exposure };
  const steps = networkSteps(changed, owner, ordered.order);
  for (const step of steps) OpInputSchemas[step.op].parse(step.input);
  return { ok: true, steps, network: changed };
}

/** 127.0.0.0/8 and ::1 (also as IPv4-mapped IPv6): the request came from the box itself. */
export function isLoopbackAddress(addr: string): boolean {
  const a = addr.replace(/^::ffff:/i, "");
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * A change that would cut the owner off. The web UI (80/443 from the LAN) is always open, so SSH
 * off is fine from a browser on the LAN; but on the appliance a request from the box itself came
 * through a tunnel (an SSH port forward is the usual one), and turning SSH off would close it.
 */
export function sshLockout(
  ssh: SshExposure,
  request: { appliance: boolean; remoteAddr: string },
): string | null {
  if (ssh !== "off" || !request.appliance || !isLoopbackAddress(request.remoteAddr)) return null;
  return "This page reaches the box through a tunnel on the box itself (an SSH port forward, most likely): turning SSH off would cut it and lock you out. Open the dashboard from a browser on the local network and turn SSH off there.";
}
