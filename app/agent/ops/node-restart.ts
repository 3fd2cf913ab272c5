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

export function makeNodeRestart(deps: {
  nodes: NodeSource;
  probes: Probes;
  healthAttempts: number;
  healthIntervalMs: number;
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
      await host.run(restartArgv(units), { timeoutMs: 10 * 60_000 });
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
