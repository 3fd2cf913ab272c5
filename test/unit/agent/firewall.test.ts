import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { firewallApply } from "../../../app/agent/ops/firewall-apply";
import { firewallConfirm } from "../../../app/agent/ops/firewall-confirm";
import { CANDIDATE, MARKER, NFT_CONF, ROLLBACK_FILE } from "../../../app/agent/ops/firewall-rollback";
import { type FirewallInput, liveProblems, renderRuleset } from "../../../app/agent/ops/firewall-ruleset";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-nft-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canNft = spawnSync("nft", ["-c", "-f", "/dev/null"]).status === 0;

const relay: FirewallInput = {
  lan: [
    { port: 22, protocol: "tcp" },
    { port: 8333, protocol: "tcp" },
  ],
  internet: [
    { port: 7777, protocol: "tcp" },
    { port: 51820, protocol: "udp" },
  ],
};

/** What `nft -j list ruleset` shows for our rendered rules (the accept rules that carry ports). */
function nftJson(input: FirewallInput, policy = "drop"): string {
  const rule = (scope: "ip" | "iif" | null, protocol: string, ports: number[]) => ({
    rule: {
      family: "inet",
      table: "filter",
      chain: "input",
      handle: 10,
      expr: [
        ...(scope === "ip"
          ? [{ match: { op: "==", left: { payload: { protocol: "ip", field: "saddr" } }, right: "@lan4" } }]
          : scope === "iif"
            ? [{ match: { op: "==", left: { meta: { key: "iifname" } }, right: "@lan_ifaces" } }]
            : []),
        {
          match: {
            op: "==",
            left: { payload: { protocol, field: "dport" } },
            right: ports.length === 1 ? ports[0] : { set: ports },
          },
        },
        { accept: null },
      ],
    },
  });
  const ports = (list: FirewallInput["lan"], protocol: string) =>
    list.filter((p) => p.protocol === protocol).map((p) => p.port);
  const lanTcp = [...ports(input.lan, "tcp"), 80, 443].filter(
    (p) => !ports(input.internet, "tcp").includes(p),
  );
  return JSON.stringify({
    nftables: [
      { metainfo: { version: "1.0.6", json_schema_version: 1 } },
      { table: { family: "inet", name: "filter", handle: 1 } },
      {
        chain: {
          family: "inet",
          table: "filter",
          name: "input",
          handle: 1,
          type: "filter",
          hook: "input",
          prio: 0,
          policy,
        },
      },
      rule("ip", "udp", [5353]),
      rule("ip", "tcp", lanTcp),
      rule("iif", "tcp", lanTcp),
      ...(ports(input.lan, "udp").length > 0 ? [rule("ip", "udp", ports(input.lan, "udp"))] : []),
      ...(ports(input.internet, "tcp").length > 0 ? [rule(null, "tcp", ports(input.internet, "tcp"))] : []),
      ...(ports(input.internet, "udp").length > 0 ? [rule(null, "udp", ports(input.internet, "udp"))] : []),
    ],
  });
}

describe("the rendered ruleset", () => {
  const cases: [string, FirewallInput, string[]][] = [
    ["nothing planned", { lan: [], internet: [] }, []],
    ["LAN-only ports over IPv4 and IPv6 LAN interfaces", relay, ["eth0", "wlan0"]],
    ["no interfaces known", relay, []],
    [
      "udp on the LAN, many ports",
      { lan: [1, 2, 3, 5353, 65535].map((port) => ({ port, protocol: "udp" })), internet: [] },
      ["enp1s0"],
    ],
  ];
  for (const [name, input, ifaces] of cases) {
    it.skipIf(!canNft)(`passes nft -c: ${name}`, () => {
      const file = path.join(tmp, `${name.replace(/\W+/g, "-")}.nft`);
      writeFileSync(file, renderRuleset(input, ifaces));
      const r = spawnSync("nft", ["-c", "-f", file], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    });
  }

  it.skipIf(!canNft)("nft -c does reject a broken one (the check is real)", () => {
    const file = path.join(tmp, "broken.nft");
    writeFileSync(file, renderRuleset(relay, ["eth0"]).replace("policy drop;", "policy dorp;"));
    expect(spawnSync("nft", ["-c", "-f", file]).status).not.toBe(0);
  });

  it("drops inbound, keeps LAN ports to the LAN and matches IPv6 LAN by interface", () => {
    const text = renderRuleset(relay, ["eth0", "wlan0"]);
    expect(text).toContain("type filter hook input priority filter; policy drop;");
    expect(text).not.toContain("flush ruleset");
    expect(text).toMatch(/^table inet filter\ndelete table inet filter\n/m);
    expect(text).toContain('elements = { "eth0", "wlan0" }');
    expect(text).toContain("\t\tip saddr @lan4 tcp dport { 22, 80, 443, 8333 } accept\n");
    expect(text).toContain(
      "\t\tiifname @lan_ifaces ip6 saddr @lan6 tcp dport { 22, 80, 443, 8333 } accept\n",
    );
    expect(text).toContain("\t\ttcp dport { 7777 } accept\n");
    expect(text).toContain("\t\tudp dport { 51820 } accept\n");
    // SSH is not open unless planned.
    expect(renderRuleset({ lan: [], internet: [] })).toContain("tcp dport { 80, 443 } accept");
    expect(renderRuleset({ lan: [], internet: [] })).not.toMatch(/dport \{[^}]*\b22\b/);
  });

  it("refuses interface names that could break out of the quotes", () => {
    expect(() => renderRuleset(relay, ['eth0" accept'])).toThrow(/interface/);
  });

  it("checks a live ruleset against the plan", () => {
    expect(liveProblems(nftJson(relay), relay)).toEqual([]);
    expect(liveProblems(nftJson(relay, "accept"), relay)).toEqual(["input policy is not drop"]);
    expect(liveProblems(nftJson({ lan: [], internet: [] }), relay)).toEqual([
      "tcp/22 not open to the LAN",
      "tcp/8333 not open to the LAN",
      "tcp/7777 not open to the internet",
      "udp/51820 not open to the internet",
    ]);
    const exposed = { lan: [], internet: [{ port: 22, protocol: "tcp" as const }] };
    expect(liveProblems(nftJson(exposed), { lan: [{ port: 22, protocol: "tcp" }], internet: [] })).toEqual([
      "tcp/22 not open to the LAN",
      "tcp/22 open to the internet",
    ]);
    expect(liveProblems("{}", relay)).toEqual(["no input chain in inet filter"]);
  });
});

const BASE: FirewallInput = { lan: [{ port: 22, protocol: "tcp" }], internet: [] };
const LINKS = [
  { ifname: "lo", link_type: "loopback" },
  { ifname: "eth0", link_type: "ether" },
  { ifname: "wlan0", link_type: "ether" },
  { ifname: "podman0", link_type: "ether" },
  { ifname: "veth3", link_type: "ether" },
];

function machine(options: { loadSticks?: boolean; checkFails?: boolean } = {}) {
  const state = { live: BASE, armed: false };
  const host = new RecordingHost()
    .on(["ip", "-j", "link", "show"], { stdout: JSON.stringify(LINKS) })
    .on(["systemctl", "is-active", "--", "freehold-firewall-rollback.timer"], () => ({
      code: state.armed ? 0 : 3,
    }))
    .on(["nft", "-j", "list", "ruleset"], () => ({ stdout: nftJson(state.live) }))
    .on(["nft", "-c", "-f"], { code: options.checkFails ? 1 : 0, stderr: "Error: syntax error\n" })
    .on(["nft", "list", "table", "inet", "filter"], { stdout: "table inet filter {\n}\n" })
    .on(["systemd-run"], () => {
      state.armed = true;
      return {};
    })
    .on(["systemctl", "stop"], () => {
      state.armed = false;
      return {};
    })
    .on(["nft", "-f", CANDIDATE], () => {
      const marker = JSON.parse(host.files.get(MARKER)?.content ?? "{}");
      if (options.loadSticks !== false) state.live = { lan: marker.lan, internet: marker.internet };
      return {};
    });
  return { host, state };
}

describe("firewall.apply and firewall.confirm", () => {
  it("checks, arms the rollback, loads the rules and verifies them; /etc/nftables.conf waits", async () => {
    const { host } = machine();
    const outcome = await firewallApply.run(relay, {}, host);
    expect(outcome).toMatchObject({ changed: true, verified: true, detail: { lanInterfaces: "eth0,wlan0" } });
    expect(host.lines()).toEqual([
      "ip -j link show",
      "systemctl is-active -- freehold-firewall-rollback.timer",
      "nft -j list ruleset",
      `write ${CANDIDATE}`,
      `nft -c -f ${CANDIDATE}`,
      `write ${MARKER}`,
      "nft list table inet filter",
      `write ${ROLLBACK_FILE}`,
      `systemd-run --unit=freehold-firewall-rollback --on-active=120 --collect -- /usr/sbin/nft -f ${ROLLBACK_FILE}`,
      `nft -f ${CANDIDATE}`,
      "nft -j list ruleset",
    ]);
    expect(host.files.get(ROLLBACK_FILE)?.content).toBe(
      "table inet filter\ndelete table inet filter\ntable inet filter {\n}\n",
    );
    expect(host.files.has(NFT_CONF)).toBe(false);
    expectPreviewFollowed(firewallApply.preview(relay), host.calls);

    host.reset();
    expect(await firewallApply.run(relay, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(host.lines().some((l) => l.startsWith("write") || l.startsWith("nft -f"))).toBe(false);
  });

  it("confirm persists the applied rules and disarms the rollback; then apply changes nothing", async () => {
    const { host, state } = machine();
    await firewallApply.run(relay, {}, host);
    host.reset();
    expect(await firewallConfirm.run({}, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(state.armed).toBe(false);
    expect(host.files.get(NFT_CONF)?.content).toBe(renderRuleset(relay, ["eth0", "wlan0"]));
    expect(host.files.has(MARKER)).toBe(false);
    host.reset();
    expect(await firewallApply.run(relay, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(await firewallConfirm.run({}, {}, host)).toMatchObject({ changed: false, verified: true });
  });

  it("confirm after the rollback fired says so and persists nothing", async () => {
    const { host, state } = machine();
    await firewallApply.run(relay, {}, host);
    state.live = BASE; // the timer ran nft -f nftables.rollback.nft
    state.armed = false;
    await expect(firewallConfirm.run({}, {}, host)).rejects.toThrow(/rolled back/);
    expect(host.files.has(NFT_CONF)).toBe(false);
  });

  it("re-applying while a rollback is armed keeps the last confirmed rules to roll back to", async () => {
    const { host } = machine();
    await firewallApply.run(relay, {}, host);
    host.reset();
    await firewallApply.run({ ...relay, internet: [] }, {}, host);
    expect(host.lines()).not.toContain("nft list table inet filter");
    expect(host.lines()).toContain(
      "systemctl stop -- freehold-firewall-rollback.timer freehold-firewall-rollback.service",
    );
  });

  it("reports verified: false when the live rules are not the planned ones", async () => {
    const { host } = machine({ loadSticks: false });
    const outcome = await firewallApply.run(relay, {}, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain("tcp/8333 not open to the LAN");
  });

  it("loads nothing and arms nothing when nft -c rejects the rules", async () => {
    const { host } = machine({ checkFails: true });
    await expect(firewallApply.run(relay, {}, host)).rejects.toThrow(
      /nft -c rejects the rules: Error: syntax error/,
    );
    expect(host.lines().some((l) => l.startsWith("systemd-run") || l === `nft -f ${CANDIDATE}`)).toBe(false);
    expect(host.files.has(CANDIDATE)).toBe(false);
  });
});
