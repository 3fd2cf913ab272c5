import type { z } from "zod";
import type { OpInputSchemas, OpName } from "../../_schemas/ops";
import type { Command } from "../command";
import type { AgentOp, Host } from "../host";

/** A plan op: also renders its fresh-machine apply path for the plan preview (one source of argv). */
export interface PlanAgentOp<N extends OpName> extends AgentOp<(typeof OpInputSchemas)[N]> {
  name: N;
  preview(input: z.infer<(typeof OpInputSchemas)[N]>): Command[];
}

/** Writes `content` only when the file differs; true when it wrote. */
export async function ensureFile(host: Host, path: string, content: string, mode: number): Promise<boolean> {
  if ((await host.readFile(path)) === content) return false;
  await host.writeFile(path, content, mode);
  return true;
}

/** `systemctl is-active` / `is-enabled` answer with their exit code; these are answers, not failures. */
export async function unitIs(
  host: Host,
  verb: "is-active" | "is-enabled",
  units: string[],
): Promise<boolean> {
  const r = await host.run(["systemctl", verb, "--", ...units], { okCodes: [0, 1, 3, 4] });
  return r.code === 0;
}

/** `KEY=value` lines (blkid -o export, os-release) as a record. */
export function parseExport(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}
