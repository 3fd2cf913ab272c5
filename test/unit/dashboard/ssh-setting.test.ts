import { describe, expect, it } from "vitest";
import { SshSettingSchema } from "../../../app/_schemas/dashboard";
import { PlanStepInputSchema } from "../../../app/_schemas/ops";
import type { WizardDraft } from "../../../app/_schemas/wizard";
import { nodeById } from "../../../app/lib/catalog/nodes";
import { buildPlan } from "../../../app/lib/plan/build";
import { buildSshChange, isLoopbackAddress, sshLockout } from "../../../app/lib/plan/ssh-change";

const network = {
  hostname: "homebox",
  ssh: "lan" as const,
  exposure: { caddy: "internet" as const, "nostr-relay": "lan" as const, tor: "off" as const },
};

const draft = (ssh: "off" | "lan"): WizardDraft => ({
  nodes: { nodes: ["nostr-relay", "tor", "caddy"], priceKwh: 0.3 },
  models: { models: [] },
  storage: { disk: "system", encrypt: false, erase: false, diskLabel: "system", tpmUnlock: false },
  network: { ...network, ssh },
  backups: {
    target: { kind: "none" },
    schedule: { frequency: "daily", time: "03:30" },
    retention: { daily: 7, weekly: 4, monthly: 12 },
    checkMonthly: false,
  },
  updates: { security: "automatic", reboot: "window", rebootTime: "04:00", apps: "manual" },
});

const relay = nodeById("nostr-relay");
const tor = nodeById("tor");
const caddy = nodeById("caddy");
if (!relay || !tor || !caddy) throw new Error("catalog lacks nostr-relay, tor or caddy");

const wizardNetworkSteps = (ssh: "off" | "lan", sshPublicKey: string | null) =>
  buildPlan(draft(ssh), {
    owner: { username: "alice", sshPublicKey },
    hasUnixPasswordHash: true,
    nodes: [{ node: relay }, { node: tor }, { node: caddy }],
    models: [],
  }).steps.filter((s) => s.op === "firewall.apply" || s.op === "ssh.configure");

/** The setup plan as the server reads it: its choices (set up with SSH on) and its node.install steps. */
const setup = {
  choices: draft("lan"),
  installed: [{ id: "tor" }, { id: "caddy" }, { id: "nostr-relay" }],
};

describe("the dashboard's SSH setting", () => {
  it("accepts only the wizard's two choices, and nothing else in the body", () => {
    expect(SshSettingSchema.safeParse({ ssh: "lan" }).success).toBe(true);
    expect(SshSettingSchema.safeParse({ ssh: "off" }).success).toBe(true);
    for (const bad of [
      { ssh: "internet" },
      { ssh: "LAN" },
      { ssh: "" },
      {},
      { ssh: "lan", ports: [{ port: 2222, protocol: "tcp" }] },
      { ssh: "off", allowUsers: ["root"] },
      null,
      "lan",
    ]) {
      expect(SshSettingSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  for (const ssh of ["off", "lan"] as const) {
    for (const key of [
      null,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    ]) {
      it(`builds exactly the wizard's firewall and SSH steps, in its order (ssh ${ssh}, ${key ? "a key" : "no key"})`, () => {
        const change = buildSshChange(setup, { username: "alice", sshPublicKey: key }, ssh, nodeById);
        if (!change.ok) throw new Error(change.reason);
        expect(change.steps).toEqual(wizardNetworkSteps(ssh, key));
        expect(change.steps.map((s) => s.op)).toEqual(["firewall.apply", "ssh.configure"]);
        for (const step of change.steps) expect(PlanStepInputSchema.safeParse(step).success).toBe(true);
      });
    }
  }

  it("opens or closes only 22/tcp on the LAN; the nodes' ports stay as set up", () => {
    const owner = { username: "alice", sshPublicKey: null };
    const on = buildSshChange(setup, owner, "lan", nodeById);
    const off = buildSshChange(setup, owner, "off", nodeById);
    if (!on.ok || !off.ok) throw new Error("not built");
    const [fwOn, sshOn] = on.steps;
    const [fwOff, sshOff] = off.steps;
    expect(fwOn?.input).toMatchObject({ lan: expect.arrayContaining([{ port: 22, protocol: "tcp" }]) });
    expect(fwOff?.input).toMatchObject({
      lan: expect.not.arrayContaining([{ port: 22, protocol: "tcp" }]),
    });
    const inputOn = fwOn?.input as { lan: unknown[]; internet: unknown[] };
    const inputOff = fwOff?.input as { lan: unknown[]; internet: unknown[] };
    expect(inputOff.internet).toEqual(inputOn.internet);
    expect(inputOff.lan).toEqual(
      inputOn.lan.filter((p) => JSON.stringify(p) !== '{"port":22,"protocol":"tcp"}'),
    );
    expect(inputOn.internet.length).toBeGreaterThan(0); // Caddy stays open to the internet
    expect(sshOn?.input).toEqual({ listen: "lan", passwordAuthentication: true, allowUsers: ["alice"] });
    expect(sshOff?.input).toMatchObject({ listen: "off" });
  });

  it("refuses when the setup's network choices or nodes cannot be known", () => {
    const owner = { username: "alice", sshPublicKey: null };
    const noChoices = buildSshChange({ choices: {}, installed: [] }, owner, "off", nodeById);
    expect(noChoices).toMatchObject({ ok: false, reason: expect.stringContaining("network choices") });
    const unknown = buildSshChange(
      { choices: draft("lan"), installed: [{ id: "no-such-node" }] },
      owner,
      "off",
      nodeById,
    );
    expect(unknown).toMatchObject({ ok: false, reason: expect.stringContaining("no-such-node") });
    const lnd = buildSshChange({ choices: draft("lan"), installed: [{ id: "lnd" }] }, owner, "off", nodeById);
    // LND without Bitcoin Core: the same check the wizard's builder makes.
    expect(lnd).toMatchObject({ ok: false, reason: expect.stringContaining("cannot be ordered") });
  });

  it("refuses to turn SSH off through a tunnel on the box itself (it would lock the owner out)", () => {
    for (const remoteAddr of ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.8.9.10"]) {
      expect(isLoopbackAddress(remoteAddr)).toBe(true);
      expect(sshLockout("off", { appliance: true, remoteAddr })).toMatch(/lock you out/);
      // Turning it on, or anything in preview mode, is never a lock-out.
      expect(sshLockout("lan", { appliance: true, remoteAddr })).toBeNull();
      expect(sshLockout("off", { appliance: false, remoteAddr })).toBeNull();
    }
    for (const remoteAddr of ["192.168.1.20", "fe80::1", "10.0.0.2", "unknown", "128.0.0.1"]) {
      expect(isLoopbackAddress(remoteAddr)).toBe(false);
      expect(sshLockout("off", { appliance: true, remoteAddr })).toBeNull();
    }
  });
});
