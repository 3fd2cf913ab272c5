import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { OpInputSchemas, type PlanStepInput } from "../../../app/_schemas/ops";
import { type AgentOp, OpError } from "../../../app/agent/host";
import { readEnv } from "../../../app/lib/env";
import {
  AgentError,
  agentCall,
  agentExecutor,
  unreachableMessage,
} from "../../../app/lib/plan/agent-executor";
import { retryStep, runPlan, type StepContext } from "../../../app/lib/plan/engine";
import { tempDb } from "../wizard/temp-db";
import { type Harness, startHarness } from "./stand-ins";

/**
 * The web app's executor against a real agent server on a Unix socket. The server's registry is the
 * stand-in ops plus one named like a plan op, so a real PlanStepInput goes over the wire.
 */

const HostnameInput = z.strictObject({ hostname: z.string() });
let h: Harness;
const calls: { input: unknown; secrets: unknown }[] = [];

beforeEach(async () => {
  calls.length = 0;
  h = await startHarness();
  const hostname: AgentOp<typeof HostnameInput> = {
    name: "hostname.set",
    input: HostnameInput,
    secrets: [],
    async run(input, secrets, host) {
      calls.push({ input, secrets });
      host.progress(`hostnamectl set-hostname -- ${input.hostname}`);
      host.progress("systemctl restart avahi-daemon.service");
      if (input.hostname === "broken")
        throw new OpError("hostnamectl failed: exit 1", "is systemd-hostnamed running?");
      return { changed: input.hostname !== "same", verified: true, detail: { hostname: input.hostname } };
    },
  };
  h.ops[hostname.name] = hostname;
});
afterEach(async () => {
  await h.close();
});

function context(attempt = 1) {
  const lines: string[] = [];
  const ctx: StepContext = {
    position: 0,
    attempt,
    secrets: {},
    log: async (line) => {
      await new Promise((r) => setTimeout(r, 5)); // like a database write
      lines.push(line);
    },
  };
  return { ctx, lines };
}

describe("agentExecutor", () => {
  it("runs the step through the agent, progress reaching ctx.log in order, and returns verified", async () => {
    const { ctx, lines } = context();
    const step: PlanStepInput = { op: "hostname.set", input: { hostname: "box" } };
    const outcome = await agentExecutor({ socketPath: h.socketPath }).run(step, ctx);
    expect(outcome).toEqual({ verified: true });
    expect(lines).toEqual([
      "hostnamectl set-hostname -- box",
      "systemctl restart avahi-daemon.service",
      "changed; verified (hostname=box)",
    ]);
    expect(calls).toEqual([{ input: { hostname: "box" }, secrets: {} }]);
    expect(agentExecutor().preview).toBe(false);
  });

  it("throws the agent's message and hint when the op fails", async () => {
    const { ctx, lines } = context();
    const run = agentExecutor({ socketPath: h.socketPath }).run(
      { op: "hostname.set", input: { hostname: "broken" } },
      ctx,
    );
    await expect(run).rejects.toThrow("hostnamectl failed: exit 1 (is systemd-hostnamed running?)");
    await expect(run).rejects.toMatchObject({ problem: "failed", hint: "is systemd-hostnamed running?" });
    // the progress before the failure is in the step log
    expect(lines).toEqual(["hostnamectl set-hostname -- broken", "systemctl restart avahi-daemon.service"]);
  });

  it("says where it looked and what to check when the agent socket is missing", async () => {
    const missing = path.join(h.dir, "nope.sock");
    const { ctx } = context();
    const run = agentExecutor({ socketPath: missing }).run(
      { op: "hostname.set", input: { hostname: "a" } },
      ctx,
    );
    await expect(run).rejects.toThrow(
      `the agent is not reachable at ${missing}: is freehold-agent.socket active? (systemctl status freehold-agent.socket)`,
    );
    expect(unreachableMessage("/run/freehold/agent.sock")).toContain("/run/freehold/agent.sock");
  });

  it("sends the step's secrets beside the input, which keeps its SecretRefs", async () => {
    const secret = "hunter2 hunter2";
    const result = await agentCall(
      "demo.unlock",
      { passphrase: { secret: "disk.passphrase" } },
      { "disk.passphrase": secret },
      { socketPath: h.socketPath },
    );
    expect(result).toMatchObject({ ok: true, changed: false, verified: true });
    expect(h.record.runs[0]?.options?.stdin).toBe(secret);
  });
});

describe("agentCall", () => {
  it("turns invalid-input into an error that names the fields", async () => {
    const call = agentCall("demo.echo", { label: "NO", steps: 1 }, {}, { socketPath: h.socketPath });
    await expect(call).rejects.toBeInstanceOf(AgentError);
    await expect(call).rejects.toMatchObject({ problem: "invalid-input", message: /input\.label/ });
  });

  it("reports an op the agent does not have as unsupported", async () => {
    await expect(agentCall("backup.configure", {}, {}, { socketPath: h.socketPath })).rejects.toMatchObject({
      problem: "unsupported",
      message: /not implemented in this freehold-agent/,
    });
  });

  it("passes a refusal on as forbidden", async () => {
    await h.close();
    h = await startHarness({ peerUid: async () => 1234 });
    await expect(
      agentCall("demo.echo", { label: "a", steps: 0 }, {}, { socketPath: h.socketPath }),
    ).rejects.toMatchObject({ problem: "forbidden", message: "uid 1234 may not use freehold-agent" });
  });

  it("takes its default socket from FREEHOLD_AGENT_SOCKET", () => {
    expect(readEnv({}).FREEHOLD_AGENT_SOCKET).toBe("/run/freehold/agent.sock");
    expect(readEnv({ FREEHOLD_AGENT_SOCKET: "/tmp/a.sock" }).FREEHOLD_AGENT_SOCKET).toBe("/tmp/a.sock");
    expect(() => readEnv({ FREEHOLD_AGENT_SOCKET: "relative.sock" })).toThrow(/FREEHOLD_AGENT_SOCKET/);
  });
});

describe("the plan engine with the agent executor", () => {
  it("records the agent's progress and failure in the step, and finishes on retry", async () => {
    const t = tempDb();
    try {
      let attempts = 0;
      const seen: unknown[] = [];
      const encrypt: AgentOp<(typeof OpInputSchemas)["volume.encrypt"]> = {
        name: "volume.encrypt",
        input: OpInputSchemas["volume.encrypt"],
        secrets: ["disk.passphrase", "disk.recoveryKey"],
        async run(input, secrets, host) {
          seen.push(secrets);
          host.progress(`cryptsetup luksFormat --type luks2 -- ${input.device}`);
          if (++attempts === 1) throw new OpError(`${input.device} is in use`, "unmount it, then retry");
          return { changed: true, verified: true, detail: { mapper: "freehold-data" } };
        },
      };
      h.ops[encrypt.name] = encrypt;
      const steps = [
        { op: "hostname.set", input: { hostname: "box" } },
        {
          op: "volume.encrypt",
          input: {
            device: "/dev/sdb",
            erase: true,
            encrypt: true,
            passphrase: { secret: "disk.passphrase" },
            recoveryKey: { secret: "disk.recoveryKey" },
            mountpoint: "/srv/freehold",
          },
        },
      ];
      await t.prisma.plan.create({
        data: {
          id: "p",
          kind: "setup",
          status: "applying",
          kitConfirmedAt: new Date(),
          steps: {
            create: steps.map((s, position) => ({
              position,
              op: s.op,
              input: JSON.stringify(s.input),
              state: "pending",
            })),
          },
        },
      });
      await t.prisma.planSecret.createMany({
        data: [
          { planId: "p", name: "disk.passphrase", value: "owner passphrase 1" },
          { planId: "p", name: "disk.recoveryKey", value: "ABCD-EFGH-JKMN" },
        ],
      });
      const executor = agentExecutor({ socketPath: h.socketPath });

      expect(await runPlan(t.prisma, "p", executor)).toBe("failed");
      let rows = await t.prisma.planStep.findMany({ orderBy: { position: "asc" } });
      expect(rows.map((r) => r.state)).toEqual(["done", "failed"]);
      expect(rows[0]?.log).toContain("hostnamectl set-hostname -- box");
      expect(rows[1]?.error).toBe("/dev/sdb is in use (unmount it, then retry)");
      expect(rows[1]?.log).toContain("cryptsetup luksFormat --type luks2 -- /dev/sdb");

      expect(await retryStep(t.prisma, "p", 1)).toBe(true);
      expect(await runPlan(t.prisma, "p", executor)).toBe("done");
      rows = await t.prisma.planStep.findMany({ orderBy: { position: "asc" } });
      expect(rows[1]?.log).toContain("changed; verified (mapper=freehold-data)");
      // the op got exactly the step's secrets; none of them reached a log or the agent's journal
      expect(seen).toEqual([
        { "disk.passphrase": "owner passphrase 1", "disk.recoveryKey": "ABCD-EFGH-JKMN" },
        { "disk.passphrase": "owner passphrase 1", "disk.recoveryKey": "ABCD-EFGH-JKMN" },
      ]);
      const everything = [...rows.map((r) => `${r.log}${r.error ?? ""}`), ...h.logs].join("\n");
      expect(everything).not.toContain("owner passphrase 1");
      expect(everything).not.toContain("ABCD-EFGH-JKMN");
      expect(await t.prisma.planSecret.count({ where: { planId: "p" } })).toBe(0);
    } finally {
      await t.close();
    }
  });
});
