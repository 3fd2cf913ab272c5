import type { ServiceLogs } from "../../_schemas/dashboard";
import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { catalogNodes } from "../../lib/catalog/local";
import { journalArgv, parseJournalJson } from "../../lib/system/journal";
import { type AgentOp, OpError } from "../host";
import { watchedUnits } from "./installed-nodes";
import { type NodeSource, nodesOf } from "./node-units";

/**
 * service.logs (read-only): the last lines of one unit's journal, for the dashboard's log viewer.
 * The schema already refuses anything that is not a plain unit name; here the unit must also be
 * one of Freehold's, a system service Freehold configures, or a unit of an installed node.
 */

const schema = AgentOnlyInputSchemas["service.logs"];
export const DEFAULT_LOG_LINES = 100;

export function makeServiceLogs(nodes: NodeSource): AgentOp<typeof schema> {
  return {
    name: "service.logs",
    input: schema,
    secrets: [],
    readOnly: true,
    async run(input, _secrets, host) {
      const allowed = await watchedUnits(host, nodesOf(nodes));
      if (!allowed.includes(input.unit))
        throw new OpError(
          `${input.unit} is not a Freehold service or a unit of an installed node`,
          "Only the logs of Freehold's own services and of the nodes it installed can be read here.",
        );
      const lines = input.lines ?? DEFAULT_LOG_LINES;
      const out = await host.run(journalArgv(input.unit, lines), { env: { LC_ALL: "C" }, timeoutMs: 30_000 });
      const report: ServiceLogs = { unit: input.unit, lines: parseJournalJson(out.stdout, lines) };
      return {
        changed: false,
        verified: true,
        detail: { unit: input.unit, lines: report.lines.length },
        report,
      };
    },
  };
}

export const serviceLogs = makeServiceLogs(() => catalogNodes());
