import type { CatalogNode } from "../../_schemas/catalog";

/**
 * The install order of chosen nodes: each after the nodes it depends on (Bitcoin Core before LND,
 * Core Lightning and electrs; Unbound before AdGuard Home), otherwise in the order given. Pure: the
 * plan builder calls it, and node.install checks the same dependencies on the box.
 */

export interface Chosen {
  node: CatalogNode;
  mode?: string | undefined;
}

export type NodeOrder =
  | { ok: true; order: Chosen[] }
  | {
      ok: false;
      /** Dependencies that are not among the chosen nodes: `{ node, needs }`. */
      missing: { node: string; needs: string }[];
      /** Each cycle as the ids along it, the first repeated at the end. */
      cycles: string[][];
    };

export function orderNodes(chosen: readonly Chosen[]): NodeOrder {
  const byId = new Map(chosen.map((c) => [c.node.id, c]));
  const missing = chosen.flatMap((c) =>
    c.node.dependsOn.filter((d) => !byId.has(d.node)).map((d) => ({ node: c.node.id, needs: d.node })),
  );
  const deps = (c: Chosen) => c.node.dependsOn.map((d) => d.node).filter((id) => byId.has(id));

  const order: Chosen[] = [];
  const placed = new Set<string>();
  const remaining = [...byId.values()];
  // Kahn's algorithm; among the ready nodes, the one given first goes first (stable).
  while (remaining.length > 0) {
    const next = remaining.findIndex((c) => deps(c).every((d) => placed.has(d)));
    if (next < 0) break;
    const [c] = remaining.splice(next, 1);
    if (!c) break;
    order.push(c);
    placed.add(c.node.id);
  }
  const cycles = findCycles(remaining, deps);
  if (missing.length > 0 || cycles.length > 0) return { ok: false, missing, cycles };
  return { ok: true, order };
}

/** The cycles among nodes that could not be placed (depth-first search, each cycle once). */
function findCycles(nodes: Chosen[], deps: (c: Chosen) => string[]): string[][] {
  const byId = new Map(nodes.map((c) => [c.node.id, c]));
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (id: string, trail: string[]) => {
    const at = trail.indexOf(id);
    if (at >= 0) {
      const cycle = [...trail.slice(at), id];
      const key = [...cycle.slice(0, -1)].sort().join(" ");
      if (!cycles.some((c) => [...c.slice(0, -1)].sort().join(" ") === key)) cycles.push(cycle);
      return;
    }
    if (seen.has(id)) return;
    const c = byId.get(id);
    if (!c) return;
    for (const d of deps(c)) visit(d, [...trail, id]);
    seen.add(id);
  };
  for (const c of nodes) visit(c.node.id, []);
  return cycles;
}

/** One sentence for an order that cannot be made. */
export function orderProblem(result: Extract<NodeOrder, { ok: false }>): string {
  const parts = [
    ...result.missing.map((m) => `${m.node} needs ${m.needs}, which is not chosen`),
    ...result.cycles.map((c) => `the dependencies form a cycle: ${c.join(" → ")}`),
  ];
  return parts.join("; ");
}
