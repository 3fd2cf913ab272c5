import type { SystemStatus, UpdatesReport } from "../../_schemas/dashboard";
import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { catalogNodes } from "../../lib/catalog/local";
import { NFT_LIST, summarizeRuleset } from "../../lib/system/firewall";
import { parseUnitStates, showUnitsArgv } from "../../lib/system/units";
import {
  APT_SIMULATE,
  parseAptSimulate,
  parseRebootPkgs,
  parseUnattendedLog,
  REBOOT_PKGS,
  REBOOT_REQUIRED,
  UNATTENDED_LOG,
} from "../../lib/system/updates";
import type { AgentOp, Host } from "../host";
import { installedNodes, watchedUnits } from "./installed-nodes";
import { nodeProblems, type Probes, realProbes } from "./node-health";
import { type NodeSource, nodesOf, unitsOf } from "./node-units";

/**
 * system.status (read-only): what the dashboard shows about the box. Pending updates (a simulated
 * dist-upgrade), the last unattended-upgrades run, whether a reboot is needed, the firewall in
 * words, the state of Freehold's services and of each installed node's units, and each node's
 * health checks. A part that cannot be read is reported as such; the rest still comes back.
 */

const schema = AgentOnlyInputSchemas["system.status"];
const APT_ENV = { LC_ALL: "C", DEBIAN_FRONTEND: "noninteractive" };

async function updates(host: Host): Promise<UpdatesReport> {
  let pending: UpdatesReport["pending"] = null;
  let error: string | null = null;
  try {
    pending = parseAptSimulate((await host.run(APT_SIMULATE, { env: APT_ENV, timeoutMs: 120_000 })).stdout);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const { lastRun, lastAppliedAt } = parseUnattendedLog((await host.readFile(UNATTENDED_LOG)) ?? "");
  const rebootRequired = await host.exists(REBOOT_REQUIRED);
  return {
    pending,
    error,
    lastRun,
    lastAppliedAt,
    rebootRequired,
    rebootPackages: rebootRequired ? parseRebootPkgs(await host.readFile(REBOOT_PKGS)) : [],
  };
}

async function firewall(host: Host): Promise<SystemStatus["firewall"]> {
  try {
    return summarizeRuleset((await host.run(NFT_LIST)).stdout);
  } catch {
    return null;
  }
}

export function makeSystemStatus(deps: {
  nodes: NodeSource;
  probes: Probes;
  now?: () => Date;
}): AgentOp<typeof schema> {
  return {
    name: "system.status",
    input: schema,
    secrets: [],
    readOnly: true,
    async run(_input, _secrets, host) {
      const catalog = nodesOf(deps.nodes);
      const units = await watchedUnits(host, catalog);
      const services = parseUnitStates((await host.run(showUnitsArgv(units))).stdout, units);
      const nodes = [];
      for (const { node, mode } of await installedNodes(host, catalog)) {
        nodes.push({
          id: node.id,
          name: node.name,
          mode,
          units: unitsOf(node),
          problems: await nodeProblems(host, deps.probes, node),
        });
      }
      const report: SystemStatus = {
        at: (deps.now?.() ?? new Date()).toISOString(),
        updates: await updates(host),
        firewall: await firewall(host),
        services,
        nodes,
      };
      return {
        changed: false,
        verified: true,
        detail: {
          pendingUpdates: report.updates.pending?.length ?? null,
          rebootRequired: report.updates.rebootRequired,
          firewall: report.firewall
            ? report.firewall.present
              ? `policy ${report.firewall.inputPolicy}`
              : "none"
            : null,
          nodes: nodes.length,
        },
        report,
      };
    },
  };
}

export const systemStatus = makeSystemStatus({ nodes: () => catalogNodes(), probes: realProbes });
