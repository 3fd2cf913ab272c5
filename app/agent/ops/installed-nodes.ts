import { z } from "zod";
import type { CatalogNode } from "../../_schemas/catalog";
import { FREEHOLD_UNITS, SYSTEM_UNITS } from "../../lib/system/units";
import type { Host } from "../host";
import { nodeStatePath } from "./node-install";
import { unitsOf } from "./node-units";

/**
 * The nodes node.install installed on this box: those of the catalog with a record in
 * /var/lib/freehold-agent/nodes/<id>.json. Only they can be restarted, and only their units (with
 * Freehold's own and the system services it configures) may have their logs read.
 */

const RecordSchema = z.object({ id: z.string(), mode: z.string().nullable() });

export interface InstalledNode {
  node: CatalogNode;
  mode: string | null;
}

export async function installedNodes(host: Host, catalog: readonly CatalogNode[]): Promise<InstalledNode[]> {
  const out: InstalledNode[] = [];
  for (const node of catalog) {
    const text = await host.readFile(nodeStatePath(node.id));
    if (text === null) continue;
    let mode: string | null = null;
    try {
      const parsed = RecordSchema.safeParse(JSON.parse(text));
      if (parsed.success && parsed.data.id === node.id) mode = parsed.data.mode;
    } catch {
      // an unreadable record still says the node was installed
    }
    out.push({ node, mode });
  }
  return out;
}

/** Every unit whose state and logs the dashboard may see. */
export async function watchedUnits(host: Host, catalog: readonly CatalogNode[]): Promise<string[]> {
  const nodes = (await installedNodes(host, catalog)).flatMap(({ node }) => unitsOf(node, true));
  return [...new Set([...FREEHOLD_UNITS, ...SYSTEM_UNITS, ...nodes])];
}
