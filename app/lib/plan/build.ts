import type { CatalogNode, Quant } from "../../_schemas/catalog";
import type { PlanStepInput, SecretName } from "../../_schemas/ops";
import type { NodeRecommendation } from "../../_schemas/recommend";
import type { NetworkChoice, WizardDraft } from "../../_schemas/wizard";
import { backupSet } from "../backup/sets";
import { catalogNodeById } from "../catalog/local";
import { type Chosen, orderNodes, orderProblem } from "../catalog/order";

/**
 * Turns the wizard's choices into the ordered plan: the account first, then the name, the data
 * volume, the firewall and SSH, kernel hardening, updates, the nodes and models, and backups last (they cover what
 * the nodes keep). Pure: the caller resolves nodes (with dependencies and modes) and models.
 */
export interface PlanContext {
  owner: { username: string; sshPublicKey: string | null };
  /** A crypt(3) hash of the owner's password is waiting as a draft secret. */
  hasUnixPasswordHash: boolean;
  /** Chosen nodes with their dependencies, and the catalog entry of each (ordered here). */
  nodes: { node: CatalogNode; mode?: string | undefined }[];
  models: { id: string; quant: Quant; ollama: string }[];
}

/**
 * The nodes the plan installs: each chosen node (and each dependency the recommendation added),
 * with its mode. A chosen node the recommendation found unsuitable for this box is never left out
 * without a word: the plan is refused with the reason, so the owner changes the choice.
 */
export function nodesToInstall(
  recommended: readonly Pick<NodeRecommendation, "id" | "name" | "fit" | "reason" | "chosen" | "mode">[],
): { node: CatalogNode; mode: string | undefined }[] {
  const chosen = recommended.filter((n) => n.chosen);
  const unsuitable = chosen.filter((n) => n.fit === "unsuitable");
  if (unsuitable.length > 0)
    throw new Error(
      `${unsuitable.map((n) => `${n.name} cannot run on this box (${n.reason})`).join("; ")}. ` +
        "Choose other nodes on the Nodes step, or give the box what it lacks.",
    );
  return chosen.map((n) => {
    const node = catalogNodeById(n.id);
    if (!node) throw new Error(`there is no node "${n.id}" in this Freehold's catalog`);
    return { node, mode: n.mode };
  });
}

export const REQUIRED_SECTIONS = ["nodes", "models", "storage", "network", "backups", "updates"] as const;

export function missingSections(draft: WizardDraft): string[] {
  return REQUIRED_SECTIONS.filter((s) => draft[s] === undefined);
}

export interface BuiltPlan {
  steps: PlanStepInput[];
  /** Secrets the server must generate now (shown in the recovery kit). */
  generate: SecretName[];
  /** Secrets already waiting as draft secrets that the plan takes over. */
  adopt: SecretName[];
}

export function buildPlan(draft: WizardDraft, ctx: PlanContext): BuiltPlan {
  const { storage, network, backups, updates } = draft;
  if (!draft.nodes || !draft.models || !storage || !network || !backups || !updates) {
    throw new Error(`These steps are not done yet: ${missingSections(draft).join(", ")}`);
  }
  const ordered = orderNodes(ctx.nodes);
  if (!ordered.ok) throw new Error(`The nodes cannot be installed: ${orderProblem(ordered)}.`);
  const nodes = ordered.order;
  const steps: PlanStepInput[] = [];
  const generate: SecretName[] = [];
  const adopt: SecretName[] = [];

  const keys = ownerKeys(ctx.owner);
  if (ctx.hasUnixPasswordHash) adopt.push("owner.unixPasswordHash");
  steps.push({
    op: "user.ensure",
    input: {
      username: ctx.owner.username,
      ...(ctx.hasUnixPasswordHash ? { passwordHash: { secret: "owner.unixPasswordHash" } } : {}),
      sshAuthorizedKeys: keys,
      sudo: true,
    },
  });
  steps.push({ op: "hostname.set", input: { hostname: network.hostname } });

  if (storage.encrypt) {
    adopt.push("disk.passphrase");
    generate.push("disk.recoveryKey");
  }
  steps.push({
    op: "volume.encrypt",
    input: {
      device: storage.disk,
      erase: storage.erase,
      encrypt: storage.encrypt,
      ...(storage.encrypt
        ? { passphrase: { secret: "disk.passphrase" }, recoveryKey: { secret: "disk.recoveryKey" } }
        : {}),
      mountpoint: "/srv/freehold",
    },
  });
  if (storage.encrypt && storage.tpmUnlock) {
    steps.push({ op: "volume.tpm2", input: { passphrase: { secret: "disk.passphrase" }, pcrs: [7] } });
  }

  steps.push(...networkSteps(network, ctx.owner, nodes));
  steps.push({ op: "system.harden", input: {} });
  steps.push({ op: "updates.configure", input: { ...updates } });

  steps.push(...nodeInstallSteps(nodes));
  for (const model of ctx.models) {
    steps.push({ op: "model.pull", input: { id: model.id, quant: model.quant, ollama: model.ollama } });
  }

  if (backups.target.kind !== "none") {
    generate.push("backup.repositoryPassword");
    const s3 = backups.target.kind === "s3";
    if (s3) adopt.push("backup.s3SecretAccessKey");
    const set = backupSet(nodes.map(({ node }) => node));
    steps.push({
      op: "backup.configure",
      input: {
        target: backups.target,
        repositoryPassword: { secret: "backup.repositoryPassword" },
        ...(s3 ? { s3SecretAccessKey: { secret: "backup.s3SecretAccessKey" } } : {}),
        frequency: backups.schedule.frequency,
        time: backups.schedule.time,
        retention: { ...backups.retention, daily: Math.max(1, backups.retention.daily) },
        checkMonthly: backups.checkMonthly,
        paths: set.paths,
        excludes: set.excludes,
        ...(backups.target.kind === "usb" && backups.formatUsb === true ? { formatBlankUsb: true } : {}),
      },
    });
  }
  return { steps, generate, adopt };
}

type Port = { port: number; protocol: "tcp" | "udp" };
type Owner = PlanContext["owner"];

const ownerKeys = (owner: Owner) => (owner.sshPublicKey ? [owner.sshPublicKey] : []);

/**
 * The firewall's open ports: SSH (22/tcp) from the LAN when SSH is on, and each node's ports as its
 * exposure says ("off" closes them, "internet" opens its public ports to anyone, else LAN only).
 * `nodes` in install order (orderNodes).
 */
export function firewallStep(
  network: Pick<NetworkChoice, "ssh" | "exposure">,
  nodes: readonly Chosen[],
): PlanStepInput {
  const lan: Port[] = [];
  const internet: Port[] = [];
  const add = (list: Port[], p: Port) => {
    if (!list.some((x) => x.port === p.port && x.protocol === p.protocol))
      list.push({ port: p.port, protocol: p.protocol });
  };
  if (network.ssh === "lan") add(lan, { port: 22, protocol: "tcp" });
  for (const { node } of nodes) {
    const exposure = network.exposure[node.id] ?? "lan";
    for (const port of node.ports) {
      if (port.exposure === "localhost" || exposure === "off") continue;
      if (exposure === "internet" && port.exposure === "public") add(internet, port);
      else add(lan, port);
    }
  }
  return { op: "firewall.apply", input: { lan, internet } };
}

/**
 * The node.install steps for `nodes` (in install order, orderNodes): with Tor among them or already
 * on the box (`torInstalled`), each node that can serve an onion service gets one, and Tor is
 * installed first. The setup plan and the dashboard's "Add a node" both build them here.
 */
export function nodeInstallSteps(nodes: readonly Chosen[], torInstalled = false): PlanStepInput[] {
  const onion = torInstalled || nodes.some(({ node }) => node.id === "tor");
  const torFirst = [...nodes].sort((a, b) => Number(b.node.id === "tor") - Number(a.node.id === "tor"));
  return torFirst.map(({ node, mode }) => {
    const withOnion = onion && (node.onion?.length ?? 0) > 0;
    return {
      op: "node.install",
      input: { id: node.id, ...(mode ? { mode } : {}), ...(withOnion ? { onion: true } : {}) },
    };
  });
}

/** sshd for the owner's account only: keys only when a key was imported, else the password. */
export function sshStep(ssh: NetworkChoice["ssh"], owner: Owner): PlanStepInput {
  return {
    op: "ssh.configure",
    input: {
      listen: ssh,
      passwordAuthentication: ownerKeys(owner).length === 0,
      allowUsers: [owner.username],
    },
  };
}

/**
 * The firewall and SSH steps, in the order the setup plan runs them: the firewall first (the agent
 * executor then waits for the browser to come back through it and calls firewall.confirm, else the
 * agent's timer restores the previous rules), then sshd. The dashboard's SSH setting builds its
 * change plan with this too, so both agree on the ports.
 */
export function networkSteps(
  network: Pick<NetworkChoice, "ssh" | "exposure">,
  owner: Owner,
  nodes: readonly Chosen[],
): PlanStepInput[] {
  return [firewallStep(network, nodes), sshStep(network.ssh, owner)];
}
