import { describe, expect, it } from "vitest";
import { AgentOnlyInputSchemas, OpInputSchemas, type PlanStepInput } from "../../../app/_schemas/ops";
import type { WizardDraft } from "../../../app/_schemas/wizard";
import { AGENT_OPS, isAgentOp, PLAN_AGENT_OPS } from "../../../app/agent/ops";
import { nodeById } from "../../../app/lib/catalog/nodes";
import { buildPlan } from "../../../app/lib/plan/build";
import { commandsOf, displayCommand, secretsOf } from "../../../app/lib/plan/ops";

const draft: WizardDraft = {
  nodes: { nodes: ["nostr-relay"], priceKwh: 0.3 },
  models: { models: [] },
  storage: { disk: "system", encrypt: true, erase: false, diskLabel: "free space", tpmUnlock: false },
  network: { hostname: "homebox", ssh: "lan", exposure: { "nostr-relay": "internet" } },
  backups: {
    target: { kind: "none" },
    schedule: { frequency: "daily", time: "03:30" },
    retention: { daily: 7, weekly: 4, monthly: 12 },
    checkMonthly: true,
  },
  updates: { security: "automatic", reboot: "window", rebootTime: "04:00", apps: "manual" },
};

describe("the agent's registry", () => {
  it("is closed: every plan op and the agent-only ops, nothing else", () => {
    expect(Object.keys(AGENT_OPS).sort()).toEqual([
      "backup.check",
      "backup.configure",
      "backup.drill",
      "backup.run",
      "backup.start",
      "backup.status",
      "firewall.apply",
      "firewall.confirm",
      "hostname.set",
      "model.pull",
      "node.install",
      "node.restart",
      "service.logs",
      "ssh.configure",
      "system.harden",
      "system.status",
      "updates.configure",
      "user.ensure",
      "volume.encrypt",
      "volume.status",
      "volume.tpm2",
      "volume.unlock",
    ]);
    for (const [name, op] of Object.entries(AGENT_OPS)) expect(op.name).toBe(name);
    for (const name of ["__proto__", "toString", "constructor"]) {
      expect(isAgentOp(name), name).toBe(false);
    }
    expect(Object.isFrozen(AGENT_OPS)).toBe(true);
  });

  it("uses the shared input schemas (one place for each schema)", () => {
    for (const [name, op] of Object.entries(PLAN_AGENT_OPS)) {
      expect(op.input).toBe(OpInputSchemas[name as keyof typeof OpInputSchemas]);
    }
    for (const [name, schema] of Object.entries(AgentOnlyInputSchemas)) {
      expect(AGENT_OPS[name as keyof typeof AGENT_OPS].input).toBe(schema);
    }
  });

  it("shows in the plan preview exactly the agent's own apply path, secrets by name only", () => {
    const relay = nodeById("nostr-relay");
    const caddy = nodeById("caddy");
    if (!relay || !caddy) throw new Error("catalog lacks nostr-relay or caddy");
    const { steps } = buildPlan(draft, {
      owner: { username: "alice", sshPublicKey: null },
      hasUnixPasswordHash: true,
      // Given dependent first: the plan installs Caddy before the relay.
      nodes: [{ node: relay }, { node: caddy }],
      models: [],
    });
    const agentSteps = steps.filter((s): s is PlanStepInput & { op: keyof typeof PLAN_AGENT_OPS } =>
      Object.hasOwn(PLAN_AGENT_OPS, s.op),
    );
    expect(agentSteps.map((s) => (s.op === "node.install" ? `${s.input.id}:${s.op}` : s.op))).toEqual([
      "user.ensure",
      "hostname.set",
      "volume.encrypt",
      "firewall.apply",
      "ssh.configure",
      "system.harden",
      "updates.configure",
      "caddy:node.install",
      "nostr-relay:node.install",
    ]);
    for (const step of agentSteps) {
      const op = PLAN_AGENT_OPS[step.op];
      expect(commandsOf(step)).toEqual(op.preview(step.input as never));
      for (const secret of secretsOf(step)) expect(op.secrets).toContain(secret);
    }
    const volume = agentSteps.find((s) => s.op === "volume.encrypt");
    const lines = volume ? commandsOf(volume).map(displayCommand) : [];
    expect(lines).toContain(
      "cryptsetup luksAddKey --pbkdf argon2id --pbkdf-memory 262144 --pbkdf-parallel 2 --iter-time 2000 -- /dev/disk/by-partlabel/freehold-data  < stdin: <disk.passphrase> \\n <disk.recoveryKey>",
    );
  });
});
