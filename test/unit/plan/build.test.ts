import { describe, expect, it } from "vitest";
import { PlanStepInputSchema } from "../../../app/_schemas/ops";
import type { WizardDraft } from "../../../app/_schemas/wizard";
import { nodeById } from "../../../app/lib/catalog/nodes";
import { buildPlan, nodesToInstall } from "../../../app/lib/plan/build";
import { commandsOf, displayCommand, OPS, secretsOf } from "../../../app/lib/plan/ops";

const draft: WizardDraft = {
  nodes: { nodes: ["nostr-relay"], priceKwh: 0.3 },
  models: { models: [] },
  storage: { disk: "/dev/sdb", encrypt: true, erase: true, diskLabel: "WD /dev/sdb", tpmUnlock: false },
  network: { hostname: "homebox", ssh: "lan", exposure: { "nostr-relay": "internet" } },
  backups: {
    target: {
      kind: "sftp",
      host: "nas.lan",
      port: 22,
      user: "backup",
      path: "fh",
      knownHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    },
    schedule: { frequency: "daily", time: "03:30" },
    retention: { daily: 7, weekly: 4, monthly: 12 },
    checkMonthly: true,
  },
  updates: { security: "automatic", reboot: "window", rebootTime: "04:00", apps: "manual" },
};

describe("building the plan", () => {
  const relay = nodeById("nostr-relay");
  const caddy = nodeById("caddy");
  if (!relay || !caddy) throw new Error("catalog lacks nostr-relay or caddy");
  const built = buildPlan(draft, {
    owner: { username: "alice", sshPublicKey: null },
    hasUnixPasswordHash: true,
    nodes: [{ node: relay }, { node: caddy }],
    models: [{ id: "m", quant: "Q4_K_M", ollama: "m:tag" }],
  });

  it("orders the steps and validates each against its op schema", () => {
    expect(built.steps.map((s) => s.op)).toEqual([
      "user.ensure",
      "hostname.set",
      "volume.encrypt",
      "firewall.apply",
      "ssh.configure",
      "system.harden",
      "updates.configure",
      "node.install",
      "node.install",
      "model.pull",
      "backup.configure",
    ]);
    for (const step of built.steps) expect(PlanStepInputSchema.safeParse(step).success).toBe(true);
  });

  it("adds the TPM2 unlock step right after the volume only when the owner asked for it", () => {
    const context = {
      owner: { username: "alice", sshPublicKey: null },
      hasUnixPasswordHash: true,
      nodes: [],
      models: [],
    };
    const storage = draft.storage as NonNullable<WizardDraft["storage"]>;
    const withTpm = buildPlan({ ...draft, storage: { ...storage, tpmUnlock: true } }, context);
    const ops = withTpm.steps.map((s) => s.op);
    expect(ops.indexOf("volume.tpm2")).toBe(ops.indexOf("volume.encrypt") + 1);
    const step = withTpm.steps.find((s) => s.op === "volume.tpm2");
    expect(step?.input).toEqual({ passphrase: { secret: "disk.passphrase" }, pcrs: [7] });
    expect(PlanStepInputSchema.safeParse(step).success).toBe(true);
    // Without encryption there is nothing to seal, whatever the flag says.
    const plain = buildPlan({ ...draft, storage: { ...storage, encrypt: false, tpmUnlock: true } }, context);
    expect(plain.steps.some((s) => s.op === "volume.tpm2")).toBe(false);
  });

  it("installs every chosen node, and refuses the plan (saying why) when a chosen one cannot run", () => {
    const rec = (id: string, fit: "recommended" | "possible" | "unsuitable", chosen = true) => ({
      id,
      name: nodeById(id)?.name ?? id,
      fit,
      reason: fit === "unsuitable" ? "needs 1 GB of disk, 0 B free on /dev/vda" : "fits",
      chosen,
      mode: "default",
    });
    expect(
      nodesToInstall([
        rec("caddy", "recommended"),
        rec("unbound", "possible"),
        rec("tor", "unsuitable", false),
      ]).map((n) => n.node.id),
    ).toEqual(["caddy", "unbound"]);
    expect(() => nodesToInstall([rec("caddy", "unsuitable"), rec("unbound", "recommended")])).toThrow(
      /Web server \(Caddy\) cannot run on this box \(needs 1 GB of disk, 0 B free on \/dev\/vda\)/,
    );
  });

  it("asks the agent to format a blank USB backup disk only when the owner ticked it", () => {
    const context = {
      owner: { username: "alice", sshPublicKey: null },
      hasUnixPasswordHash: true,
      nodes: [],
      models: [],
    };
    const backups = draft.backups as NonNullable<WizardDraft["backups"]>;
    const usb = { kind: "usb" as const, device: "/dev/disk/by-id/usb-WD_Elements_1234-0:0" };
    const input = (b: typeof backups) =>
      buildPlan({ ...draft, backups: b }, context).steps.find((s) => s.op === "backup.configure")?.input;
    const ticked = buildPlan({ ...draft, backups: { ...backups, target: usb, formatUsb: true } }, context);
    const step = ticked.steps.find((s) => s.op === "backup.configure");
    expect(step?.input).toMatchObject({ target: usb, formatBlankUsb: true });
    expect(PlanStepInputSchema.safeParse(step).success).toBe(true);
    expect(input({ ...backups, target: usb })).not.toHaveProperty("formatBlankUsb");
    expect(input({ ...backups, formatUsb: true })).not.toHaveProperty("formatBlankUsb");
  });

  it("names secrets by reference only, and says which to generate and which to adopt", () => {
    expect(built.generate.sort()).toEqual(["backup.repositoryPassword", "disk.recoveryKey"]);
    expect(built.adopt.sort()).toEqual(["disk.passphrase", "owner.unixPasswordHash"]);
    const volume = built.steps.find((s) => s.op === "volume.encrypt");
    if (!volume) throw new Error("no volume step");
    expect(secretsOf(volume).sort()).toEqual(["disk.passphrase", "disk.recoveryKey"]);
  });

  it("renders argv arrays with -- before positionals and secrets on stdin", () => {
    for (const step of built.steps) {
      for (const c of commandsOf(step)) {
        if (c.writes) continue;
        expect(Array.isArray(c.argv)).toBe(true);
        expect(c.argv.join(" ")).not.toMatch(/passphrase|RECO/);
      }
    }
    const volume = built.steps.find((s) => s.op === "volume.encrypt");
    const lines = volume ? commandsOf(volume).map(displayCommand) : [];
    expect(lines).toContain("wipefs --all -- /dev/sdb");
    expect(
      lines.some((l) => l.includes("cryptsetup luksFormat") && l.includes("< stdin: <disk.passphrase>")),
    ).toBe(true);
    const host = built.steps.find((s) => s.op === "hostname.set");
    expect(host && commandsOf(host).map(displayCommand)).toContain("hostnamectl set-hostname -- homebox");
  });

  it("opens the relay's public ports to the internet and SSH only to the LAN", () => {
    const fw = built.steps.find((s) => s.op === "firewall.apply");
    if (fw?.op !== "firewall.apply") throw new Error("no firewall step");
    expect(fw.input.lan).toContainEqual({ port: 22, protocol: "tcp" });
    expect(fw.input.internet.length).toBe(relay.ports.filter((p) => p.exposure === "public").length);
  });

  it("installs nodes after their dependencies, onion services with Tor, and refuses a missing dependency", () => {
    const nodes = built.steps.flatMap((s) => (s.op === "node.install" ? [s.input.id] : []));
    expect(nodes).toEqual(["caddy", "nostr-relay"]);
    const ids = ["lnd", "tor", "bitcoin-core"].map((id) => nodeById(id)).filter((n) => n !== undefined);
    const withTor = buildPlan(draft, {
      owner: { username: "alice", sshPublicKey: null },
      hasUnixPasswordHash: false,
      nodes: ids.map((node) => ({ node })),
      models: [],
    });
    expect(withTor.steps.flatMap((s) => (s.op === "node.install" ? [s.input] : []))).toEqual([
      { id: "tor" },
      { id: "bitcoin-core", onion: true },
      { id: "lnd", onion: true },
    ]);
    expect(() =>
      buildPlan(draft, {
        owner: { username: "alice", sshPublicKey: null },
        hasUnixPasswordHash: false,
        nodes: [{ node: relay }],
        models: [],
      }),
    ).toThrow(/nostr-relay needs caddy, which is not chosen/);
  });

  it("keeps one registry entry per op name", () => {
    for (const [name, def] of Object.entries(OPS)) expect(def.name).toBe(name);
  });

  it("refuses to build before every step is done", () => {
    expect(() =>
      buildPlan(
        { nodes: draft.nodes },
        { owner: { username: "a", sshPublicKey: null }, hasUnixPasswordHash: false, nodes: [], models: [] },
      ),
    ).toThrow(/not done yet: models, storage, network, backups, updates/);
  });
});
