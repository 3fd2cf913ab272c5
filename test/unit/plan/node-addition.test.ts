import { describe, expect, it } from "vitest";
import type { CatalogNode } from "../../../app/_schemas/catalog";
import { PlanStepInputSchema } from "../../../app/_schemas/ops";
import type { WizardDraft } from "../../../app/_schemas/wizard";
import { NODES, nodeById } from "../../../app/lib/catalog/nodes";
import { buildPlan, firewallStep } from "../../../app/lib/plan/build";
import {
  buildNodeAddition,
  type InstalledNode,
  installedFromSteps,
  type NodeAdditionContext,
} from "../../../app/lib/plan/node-addition";
import { buildSshChange } from "../../../app/lib/plan/ssh-change";
import { fixture } from "../recommend/fixtures";

const network = {
  hostname: "homebox",
  ssh: "lan" as const,
  exposure: { caddy: "internet" as const, "nostr-relay": "lan" as const },
};

const choices: WizardDraft = {
  nodes: { nodes: ["nostr-relay", "caddy"], priceKwh: 0.3 },
  models: { models: [] },
  storage: { disk: "system", encrypt: false, erase: false, diskLabel: "system", tpmUnlock: false },
  network,
  backups: {
    target: { kind: "none" },
    schedule: { frequency: "daily", time: "03:30" },
    retention: { daily: 7, weekly: 4, monthly: 12 },
    checkMonthly: false,
  },
  updates: { security: "automatic", reboot: "window", rebootTime: "04:00", apps: "manual" },
};

const installed: InstalledNode[] = [{ id: "caddy" }, { id: "nostr-relay" }];
const ctx: NodeAdditionContext = {
  catalog: NODES,
  profile: fixture("n100-16gb"),
  ssh: "lan",
  volume: "unlocked",
};
const node = (id: string): CatalogNode => {
  const n = nodeById(id);
  if (!n) throw new Error(`catalog lacks ${id}`);
  return n;
};

const refused = (result: ReturnType<typeof buildNodeAddition>): string => {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.steps)}`);
  return result.reason;
};

describe("the dashboard's Add a node", () => {
  it("installs a node's missing dependency first, then rebuilds the firewall", () => {
    const result = buildNodeAddition(choices, installed, ["adguard-home"], ctx);
    if (!result.ok) throw new Error(result.reason);
    expect(result.steps.map((s) => [s.op, s.op === "node.install" ? s.input.id : null])).toEqual([
      ["node.install", "unbound"],
      ["node.install", "adguard-home"],
      ["firewall.apply", null],
    ]);
    expect(result.added.map((n) => n.id)).toEqual(["unbound", "adguard-home"]);
    for (const step of result.steps) expect(PlanStepInputSchema.safeParse(step).success).toBe(true);
  });

  it("builds the node.install steps and the firewall the wizard builds for the same nodes", () => {
    const result = buildNodeAddition(choices, installed, ["adguard-home"], ctx);
    if (!result.ok) throw new Error(result.reason);
    // The wizard, had these nodes been chosen (its builder orders them too).
    const wizardWithUnbound = buildPlan(choices, {
      owner: { username: "alice", sshPublicKey: null },
      hasUnixPasswordHash: false,
      nodes: [
        { node: node("caddy") },
        { node: node("nostr-relay") },
        { node: node("adguard-home") },
        { node: node("unbound") },
      ],
      models: [],
    }).steps;
    const installs = wizardWithUnbound.filter(
      (s) => s.op === "node.install" && ["unbound", "adguard-home"].includes(s.input.id),
    );
    expect(result.steps.filter((s) => s.op === "node.install")).toEqual(installs);
    expect(result.steps.at(-1)).toEqual(wizardWithUnbound.find((s) => s.op === "firewall.apply"));
  });

  it("opens the new node's ports and keeps the old ones", () => {
    const result = buildNodeAddition(choices, installed, ["adguard-home"], ctx);
    if (!result.ok) throw new Error(result.reason);
    const firewall = result.steps.at(-1);
    if (firewall?.op !== "firewall.apply") throw new Error("the last step is not firewall.apply");
    const before = firewallStep(network, [{ node: node("caddy") }, { node: node("nostr-relay") }]);
    if (before.op !== "firewall.apply") throw new Error("unreachable");
    for (const port of before.input.lan) expect(firewall.input.lan).toContainEqual(port);
    expect(firewall.input.internet).toEqual(before.input.internet);
    expect(firewall.input.internet).toContainEqual({ port: 443, protocol: "tcp" });
    expect(firewall.input.lan).toContainEqual({ port: 22, protocol: "tcp" });
    expect(firewall.input.lan).toContainEqual({ port: 53, protocol: "udp" });
    expect(firewall.input.lan).toContainEqual({ port: 3000, protocol: "tcp" });
  });

  it("keeps the SSH exposure in force, not the setup's", () => {
    const result = buildNodeAddition(choices, installed, ["unbound"], { ...ctx, ssh: "off" });
    if (!result.ok) throw new Error(result.reason);
    const firewall = result.steps.at(-1);
    if (firewall?.op !== "firewall.apply") throw new Error("the last step is not firewall.apply");
    expect(firewall.input.lan).not.toContainEqual({ port: 22, protocol: "tcp" });
    expect(firewall.input.lan).toContainEqual({ port: 53, protocol: "udp" });
  });

  it("adds only what is missing when a dependency is already installed", () => {
    const result = buildNodeAddition(choices, [...installed, { id: "unbound" }], ["adguard-home"], ctx);
    if (!result.ok) throw new Error(result.reason);
    expect(result.steps.map((s) => s.op)).toEqual(["node.install", "firewall.apply"]);
    expect(result.added).toEqual([{ id: "adguard-home" }]);
  });

  it("serves a new node as an onion service when Tor is on the box, as the wizard does", () => {
    const result = buildNodeAddition(choices, [...installed, { id: "tor" }], ["bitcoin-core"], ctx);
    if (!result.ok) throw new Error(result.reason);
    const install = result.steps.find((s) => s.op === "node.install");
    expect(install?.input).toMatchObject({ id: "bitcoin-core", onion: true });
  });

  it("refuses an unknown node, one already installed, and an empty choice", () => {
    expect(refused(buildNodeAddition(choices, installed, ["no-such-node"], ctx))).toContain(
      'no node "no-such-node"',
    );
    expect(refused(buildNodeAddition(choices, installed, ["caddy"], ctx))).toBe(
      `${node("caddy").name} is already installed.`,
    );
    expect(refused(buildNodeAddition(choices, installed, [], ctx))).toContain("at least one");
  });

  it("refuses without the setup's recorded network choices", () => {
    for (const recorded of [{}, null, { network: { hostname: "x" } }])
      expect(refused(buildNodeAddition(recorded, installed, ["unbound"], ctx))).toContain(
        "does not record its network choices",
      );
  });

  it("refuses a node that needs the data volume while it is locked; a Debian package needs none", () => {
    const locked = { ...ctx, volume: "locked" as const };
    expect(refused(buildNodeAddition(choices, installed, ["kubo"], locked))).toContain("which is locked");
    expect(buildNodeAddition(choices, installed, ["unbound"], locked).ok).toBe(true);
    const { storage: _, ...noStorage } = choices;
    expect(refused(buildNodeAddition(noStorage, installed, ["kubo"], ctx))).toContain("records none");
    expect(buildNodeAddition(choices, installed, ["kubo"], { ...ctx, volume: "preview" }).ok).toBe(true);
  });

  it("refuses a node the wizard calls unsuitable here: another architecture", () => {
    const unbound = node("unbound");
    const x86Only: CatalogNode = { ...unbound, id: "x86-dns", name: "x86 DNS", architectures: ["amd64"] };
    const catalog = [...NODES, x86Only];
    const arm = { ...ctx, catalog, profile: fixture("rpi5-8gb") };
    expect(refused(buildNodeAddition(choices, installed, ["x86-dns"], arm))).toBe(
      "x86 DNS cannot be added here: chosen: not available for arm64.",
    );
    expect(
      buildNodeAddition(choices, installed, ["x86-dns"], { ...arm, profile: fixture("n100-16gb") }).ok,
    ).toBe(true);
  });

  it("refuses a node that does not fit this hardware's memory with what is installed", () => {
    const small = { ...ctx, profile: fixture("rpi4-2gb") };
    expect(refused(buildNodeAddition(choices, installed, ["mastodon"], small))).toMatch(
      /^Mastodon cannot be added here: /,
    );
  });
});

describe("the installed nodes", () => {
  const step = (id: string, mode?: string) => ({
    op: "node.install",
    input: JSON.stringify({ id, ...(mode ? { mode } : {}) }),
  });

  it("are the done node.install steps of every plan, each node once with its latest mode", () => {
    expect(
      installedFromSteps([
        step("caddy"),
        { op: "firewall.apply", input: "{}" },
        step("bitcoin-core", "pruned"),
        step("unbound"),
        { op: "node.install", input: "not json" },
        step("bitcoin-core", "full"),
      ]),
    ).toEqual([{ id: "caddy" }, { id: "unbound" }, { id: "bitcoin-core", mode: "full" }]);
  });

  it("include a node added after setup, so the SSH change keeps its ports open", () => {
    const setupSteps = [step("caddy"), step("nostr-relay")];
    const added = buildNodeAddition(choices, installedFromSteps(setupSteps), ["adguard-home"], ctx);
    if (!added.ok) throw new Error(added.reason);
    const additionSteps = added.steps.flatMap((s) =>
      s.op === "node.install" ? [{ op: s.op, input: JSON.stringify(s.input) }] : [],
    );
    const change = buildSshChange(
      { choices, installed: installedFromSteps([...setupSteps, ...additionSteps]) },
      { username: "alice", sshPublicKey: null },
      "off",
      nodeById,
    );
    if (!change.ok) throw new Error(change.reason);
    const firewall = change.steps[0];
    if (firewall?.op !== "firewall.apply") throw new Error("the first step is not firewall.apply");
    expect(firewall.input.lan).toContainEqual({ port: 3000, protocol: "tcp" });
    expect(firewall.input.lan).toContainEqual({ port: 53, protocol: "udp" });
    expect(firewall.input.lan).not.toContainEqual({ port: 22, protocol: "tcp" });
    // and it equals the firewall the addition itself left, with SSH closed
    const after = buildNodeAddition(choices, installedFromSteps(setupSteps), ["adguard-home"], {
      ...ctx,
      ssh: "off",
    });
    if (!after.ok) throw new Error(after.reason);
    expect(firewall).toEqual(after.steps.at(-1));
  });
});
