import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { catalogNodes } from "../../lib/catalog/local";
import { type AgentOp, OpError } from "../host";
import { installedNodes } from "./installed-nodes";
import { type Probes, realProbes, waitHealthy } from "./node-health";
import { type NodeSource, nodesOf, unitsOf } from "./node-units";

/**
 * node.restart: `systemctl restart` of an installed node's units (in install order, so a node's
 * own dependencies start first), then the same checks as node.install's verify (units active,
 * health checks passing), polled while it starts. Only nodes node.install recorded may be
 * restarted; anything else is refused before systemctl runs.
 */

const schema = AgentOnlyInputSchemas["node.restart"];

export const restartArgv = (units: readonly string[]) => ["systemctl", "restart", "--", ...units];

/** How long `systemctl restart` may wait for the units' stop and start jobs. */
export const RESTART_TIMEOUT_MS = 10 * 60_000;

/**
 * systemctl failed or ran past its limit (a slow unit: the job goes on in systemd even though
 * systemctl was stopped): name the units and what to look at before trying again.
 */
export function restartFailed(units: readonly string[], error: unknown): OpError {
  const first = units[0] ?? "the unit";
  const why = error instanceof Error ? error.message : String(error);
  return new OpError(
    `restarting ${units.join(", ")} did not finish: ${why}. The unit may still be stopping or starting (systemd keeps the job going)`,
    `see its log (Logs on the dashboard, or journalctl -u ${first}) and systemctl status ${first}; restart it again only once it is active or failed`,
  );
}

export function makeNodeRestart(deps: {
  nodes: NodeSource;
  probes: Probes;
  healthAttempts: number;
  healthIntervalMs: number;
  /** Default RESTART_TIMEOUT_MS. */
  restartTimeoutMs?: number;
}): AgentOp<typeof schema> {
  return {
    name: "node.restart",
    input: schema,
    secrets: [],
    async run(input, _secrets, host) {
      const nodes = nodesOf(deps.nodes);
      const installed = (await installedNodes(host, nodes)).find((n) => n.node.id === input.id);
      if (!installed)
        throw new OpError(
          nodes.some((n) => n.id === input.id)
            ? `${input.id} is not installed on this box`
            : `there is no node "${input.id}" in this Freehold's catalog`,
        );
      const { node } = installed;
      const units = unitsOf(node);
      host.progress(`restarting ${units.join(", ")}`);
      try {
        await host.run(restartArgv(units), { timeoutMs: deps.restartTimeoutMs ?? RESTART_TIMEOUT_MS });
      } catch (error) {
        throw restartFailed(units, error);
      }
      host.progress(`waiting for ${node.name} to answer`);
      const problems = await waitHealthy(host, deps.probes, node, deps.healthAttempts, deps.healthIntervalMs);
      return {
        changed: true,
        verified: problems.length === 0,
        detail: {
          node: node.id,
          units: units.join(", "),
          ...(problems.length > 0 ? { problems: problems.join("; ") } : {}),
        },
      };
    },
  };
}

export const nodeRestart = makeNodeRestart({
  nodes: () => catalogNodes(),
  probes: realProbes,
  healthAttempts: 24,
  healthIntervalMs: 5000,
});
