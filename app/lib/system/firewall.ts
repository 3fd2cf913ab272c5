import type { FirewallSummary, PortRule } from "../../_schemas/dashboard";

/**
 * The firewall in words, from `nft -j list ruleset` (libnftables' JSON): the input policy of
 * Freehold's `table inet filter`, and which ports its accept rules open to the local network (a
 * rule that also matches a source address or an interface) and which to anyone. Rules that match a
 * source port (DHCP replies) are answers to the box's own requests, not open ports. Pure.
 */

export const NFT_LIST = ["nft", "-j", "list", "ruleset"];

type Json = unknown;
interface Match {
  left?: { payload?: { protocol?: string; field?: string }; meta?: { key?: string } };
  right?: Json;
}
interface Rule {
  family?: string;
  table?: string;
  chain?: string;
  expr?: ({ match?: Match } & Record<string, Json>)[];
}

/** Ports of a match's right side: a number, a range, or a set of those. */
function portRanges(right: Json): [number, number][] {
  if (typeof right === "number") return [[right, right]];
  if (right && typeof right === "object") {
    if ("range" in right && Array.isArray(right.range)) {
      const [a, b] = right.range as unknown[];
      return typeof a === "number" && typeof b === "number" ? [[a, b]] : [];
    }
    if ("set" in right && Array.isArray(right.set)) return right.set.flatMap(portRanges);
  }
  return [];
}

const key = (r: PortRule) => `${r.protocol}/${r.from}-${r.to}`;

function sorted(rules: Map<string, PortRule>): PortRule[] {
  return [...rules.values()].sort((a, b) => a.from - b.from || a.protocol.localeCompare(b.protocol));
}

export function summarizeRuleset(json: string): FirewallSummary {
  let items: Record<string, Json>[];
  try {
    const parsed = JSON.parse(json) as { nftables?: unknown };
    items = Array.isArray(parsed.nftables) ? (parsed.nftables as Record<string, Json>[]) : [];
  } catch {
    throw new Error("nft printed something that is not JSON");
  }
  const chain = items
    .map((i) => i.chain as { family?: string; table?: string; name?: string; hook?: string; policy?: string })
    .find((c) => c?.family === "inet" && c.table === "filter" && c.hook === "input");
  if (!chain) return { present: false, inputPolicy: null, lan: [], internet: [] };

  const lan = new Map<string, PortRule>();
  const internet = new Map<string, PortRule>();
  for (const item of items) {
    const rule = item.rule as Rule | undefined;
    if (rule?.family !== "inet" || rule.table !== "filter" || rule.chain !== chain.name) continue;
    const expr = rule.expr ?? [];
    if (!expr.some((e) => "accept" in e)) continue;
    const matches = expr.flatMap((e) => (e.match ? [e.match] : []));
    if (matches.some((m) => m.left?.payload?.field === "sport")) continue;
    const scoped = matches.some((m) => m.left?.payload?.field === "saddr" || m.left?.meta?.key === "iifname");
    for (const m of matches) {
      const payload = m.left?.payload;
      if (payload?.field !== "dport" || (payload.protocol !== "tcp" && payload.protocol !== "udp")) continue;
      for (const [from, to] of portRanges(m.right)) {
        const r: PortRule = { protocol: payload.protocol, from, to };
        (scoped ? lan : internet).set(key(r), r);
      }
    }
  }
  for (const k of internet.keys()) lan.delete(k);
  return { present: true, inputPolicy: chain.policy ?? null, lan: sorted(lan), internet: sorted(internet) };
}

/** "22/tcp", "8000-8010/udp". */
export const describePort = (r: PortRule) =>
  `${r.from === r.to ? r.from : `${r.from}-${r.to}`}/${r.protocol}`;

/**
 * What firewall.apply's input opens, in the same words as summarizeRuleset (the admin UI and mDNS
 * always LAN-only): the preview dashboard shows the planned firewall with it.
 */
export function plannedFirewall(input: {
  lan: { port: number; protocol: "tcp" | "udp" }[];
  internet: { port: number; protocol: "tcp" | "udp" }[];
}): FirewallSummary {
  const rule = (p: { port: number; protocol: "tcp" | "udp" }): PortRule => ({
    protocol: p.protocol,
    from: p.port,
    to: p.port,
  });
  const internet = new Map(input.internet.map((p) => [key(rule(p)), rule(p)]));
  const lan = new Map(
    [
      ...input.lan,
      { port: 80, protocol: "tcp" as const },
      { port: 443, protocol: "tcp" as const },
      { port: 5353, protocol: "udp" as const },
    ].map((p) => [key(rule(p)), rule(p)]),
  );
  for (const k of internet.keys()) lan.delete(k);
  return { present: true, inputPolicy: "drop", lan: sorted(lan), internet: sorted(internet) };
}
