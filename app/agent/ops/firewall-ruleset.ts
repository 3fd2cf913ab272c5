import type { OpInput } from "../../_schemas/ops";

/**
 * The firewall as one nftables file (pure, so tests run `nft -c` on it) and the check of a live
 * `nft -j list ruleset` against the plan. Based on overlays/common/etc/nftables.conf: inbound
 * dropped unless listed; the admin UI (80, 443) and mDNS from the local network only; the planned
 * ports LAN-only or open. The file replaces only `table inet filter` (declare, delete, define: one
 * atomic transaction), never `flush ruleset`, which would also drop podman's NAT tables at runtime.
 */

export type FirewallInput = OpInput<"firewall.apply">;
type Port = FirewallInput["lan"][number];

/** Names the kernel allows that are also safe inside nft's double quotes. */
export const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const ADMIN_PORTS = [80, 443];

const list = (ports: number[]) => `{ ${ports.join(", ")} }`;
const portsOf = (ports: Port[], protocol: Port["protocol"]) =>
  [...new Set(ports.filter((p) => p.protocol === protocol).map((p) => p.port))].sort((a, b) => a - b);

/**
 * IPv4 LAN: private source ranges. IPv6 LAN: link-local or ULA sources arriving on a LAN interface
 * (when known): global IPv6 sources may be anywhere on the internet, and the global prefix changes
 * with the provider, so a LAN client reaches LAN-only ports over IPv4, link-local or ULA.
 */
export function renderRuleset(input: FirewallInput, lanInterfaces: string[] = []): string {
  for (const name of lanInterfaces) if (!IFNAME.test(name)) throw new Error(`bad interface name ${name}`);
  const v6lan = lanInterfaces.length > 0 ? "iifname @lan_ifaces ip6 saddr @lan6" : "ip6 saddr @lan6";
  const lanRules: string[] = [];
  const openRules: string[] = [];
  for (const protocol of ["tcp", "udp"] as const) {
    const open = portsOf(input.internet, protocol);
    const lan = [...new Set([...portsOf(input.lan, protocol), ...(protocol === "tcp" ? ADMIN_PORTS : [])])]
      .filter((p) => !open.includes(p))
      .sort((a, b) => a - b);
    if (lan.length > 0) {
      lanRules.push(
        `ip saddr @lan4 ${protocol} dport ${list(lan)} accept`,
        `${v6lan} ${protocol} dport ${list(lan)} accept`,
      );
    }
    if (open.length > 0) openRules.push(`${protocol} dport ${list(open)} accept`);
  }
  const set = (name: string, type: string, elements: string, interval = true) => [
    `set ${name} {`,
    `\ttype ${type}`,
    ...(interval ? ["\tflags interval"] : []),
    `\telements = { ${elements} }`,
    "}",
  ];
  const lines = [
    "#!/usr/sbin/nft -f",
    "# Freehold firewall, written by freehold-agent (firewall.apply); edits are overwritten.",
    "# Inbound is dropped unless listed here.",
    "",
    "table inet filter",
    "delete table inet filter",
    "",
    "table inet filter {",
    ...[
      ...set("lan4", "ipv4_addr", "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16"),
      ...set("lan6", "ipv6_addr", "fe80::/10, fc00::/7"),
      ...(lanInterfaces.length > 0
        ? set("lan_ifaces", "ifname", lanInterfaces.map((n) => `"${n}"`).join(", "), false)
        : []),
      "",
      "chain input {",
      ...[
        "type filter hook input priority filter; policy drop;",
        "",
        "ct state established,related accept",
        "ct state invalid drop",
        'iif "lo" accept',
        "",
        "# ICMP essentials (errors, path MTU, ping)",
        "meta l4proto icmp icmp type { destination-unreachable, time-exceeded, parameter-problem, echo-request } accept",
        "meta l4proto ipv6-icmp icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request } accept",
        "# IPv6 neighbour discovery and router advertisements: only from on-link (hop limit 255)",
        "meta l4proto ipv6-icmp icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } ip6 hoplimit 255 accept",
        "ip6 saddr fe80::/10 meta l4proto ipv6-icmp icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept",
        "",
        "# DHCP client replies (often broadcast, so not matched by conntrack)",
        "udp sport 67 udp dport 68 accept",
        "ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept",
        "",
        "# mDNS (<name>.local) from the local network",
        "ip saddr @lan4 udp dport 5353 accept",
        `${v6lan} udp dport 5353 accept`,
        "",
        "# the admin UI (443; 80 redirects), SSH and the LAN-only ports: local network only",
        ...lanRules,
        ...(openRules.length > 0 ? ["", "# open to the internet", ...openRules] : []),
      ].map((l) => (l ? `\t${l}` : l)),
      "}",
      "",
      "chain forward {",
      "\ttype filter hook forward priority filter; policy drop;",
      "\tct state established,related accept",
      "\t# containers (podman/netavark bridges) may reach out; published ports arrive DNATed",
      '\tiifname "podman*" accept',
      "\tct status dnat accept",
      "}",
      "",
      "chain output {",
      "\ttype filter hook output priority filter; policy accept;",
      "}",
    ].map((l) => (l ? `\t${l}` : l)),
    "}",
  ];
  return `${lines.join("\n")}\n`;
}

interface NftExpr {
  match?: {
    left?: { payload?: { protocol?: string; field?: string }; meta?: { key?: string } };
    right?: unknown;
  };
  accept?: null;
}
interface NftItem {
  chain?: { family: string; table: string; name: string; hook?: string; policy?: string };
  rule?: { family: string; table: string; chain: string; expr?: NftExpr[] };
}

const portNumbers = (right: unknown): number[] => {
  if (typeof right === "number") return [right];
  if (right && typeof right === "object" && "set" in right && Array.isArray(right.set)) {
    return right.set.filter((v: unknown): v is number => typeof v === "number");
  }
  return [];
};

/** What the live ruleset (`nft -j list ruleset`) lacks, compared with the plan; empty when as wanted. */
export function liveProblems(json: string, input: FirewallInput): string[] {
  let items: NftItem[];
  try {
    items = (JSON.parse(json) as { nftables?: NftItem[] }).nftables ?? [];
  } catch {
    return ["unreadable ruleset"];
  }
  const chain = items.find(
    (i) => i.chain?.family === "inet" && i.chain.table === "filter" && i.chain.hook === "input",
  )?.chain;
  if (!chain) return ["no input chain in inet filter"];
  const problems = chain.policy === "drop" ? [] : ["input policy is not drop"];

  const lan = new Set<string>();
  const anywhere = new Set<string>();
  for (const { rule } of items) {
    if (rule?.family !== "inet" || rule.table !== "filter" || rule.chain !== chain.name) continue;
    const expr = rule.expr ?? [];
    if (!expr.some((e) => "accept" in e)) continue;
    const scoped = expr.some(
      (e) => e.match?.left?.payload?.field === "saddr" || e.match?.left?.meta?.key === "iifname",
    );
    for (const e of expr) {
      const payload = e.match?.left?.payload;
      if (payload?.field !== "dport") continue;
      for (const port of portNumbers(e.match?.right))
        (scoped ? lan : anywhere).add(`${payload.protocol}/${port}`);
    }
  }
  const key = (p: Port) => `${p.protocol}/${p.port}`;
  const internet = new Set(input.internet.map(key));
  for (const p of [...input.lan, ...ADMIN_PORTS.map((port) => ({ port, protocol: "tcp" as const }))]) {
    if (internet.has(key(p))) continue;
    if (!lan.has(key(p))) problems.push(`${key(p)} not open to the LAN`);
    if (anywhere.has(key(p))) problems.push(`${key(p)} open to the internet`);
  }
  for (const p of input.internet)
    if (!anywhere.has(key(p))) problems.push(`${key(p)} not open to the internet`);
  return problems;
}
