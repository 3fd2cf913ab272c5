import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PlanStepInput } from "../../../app/_schemas/ops";
import { type Executor, PlanNotReadyError, retryStep, runPlan } from "../../../app/lib/plan/engine";
import { previewExecutor } from "../../../app/lib/plan/preview";
import { tempDb } from "../wizard/temp-db";

const STEPS: PlanStepInput[] = [
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
  { op: "node.install", input: { id: "nostr-relay" } },
  { op: "model.pull", input: { id: "qwen", quant: "Q4_K_M", ollama: "qwen3:4b" } },
];

async function seed(prisma: ReturnType<typeof tempDb>["prisma"], confirmed = true) {
  await prisma.plan.create({
    data: {
      id: "p",
      kind: "setup",
      status: confirmed ? "applying" : "draft",
      kitConfirmedAt: confirmed ? new Date() : null,
      steps: {
        create: STEPS.map((s, position) => ({
          position,
          op: s.op,
          input: JSON.stringify(s.input),
          state: "pending",
        })),
      },
    },
  });
  await prisma.planSecret.createMany({
    data: [
      { planId: "p", name: "disk.passphrase", value: "owner passphrase" },
      { planId: "p", name: "disk.recoveryKey", value: "RECO-VERY" },
    ],
  });
}

const recorder = (
  seen: number[],
  behave: (position: number, attempt: number) => boolean = () => true,
): Executor => ({
  preview: true,
  async run(_step, ctx) {
    seen.push(ctx.position);
    return { verified: behave(ctx.position, ctx.attempt) };
  },
});

describe("the plan engine", () => {
  let t: ReturnType<typeof tempDb>;
  beforeEach(() => {
    t = tempDb();
  });
  afterEach(async () => {
    await t.close();
  });

  it("resumes at the first step not known done after the process is killed mid-step", async () => {
    await seed(t.prisma);
    const journal = path.join(t.dir, "journal");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/unit/plan/crash-runner.ts", t.file, "p", journal, "2"],
      { stdio: "inherit" },
    );
    // Wait until the child has started step 2 (its state was written "running" before the call).
    for (let i = 0; i < 200 && !(existsSync(journal) && readFileSync(journal, "utf8").includes("2\n")); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(readFileSync(journal, "utf8")).toBe("0\n1\n2\n");

    const states = await t.prisma.planStep.findMany({ orderBy: { position: "asc" } });
    expect(states.map((s) => s.state)).toEqual(["done", "done", "running", "pending"]);
    expect((await t.prisma.plan.findUniqueOrThrow({ where: { id: "p" } })).status).toBe("applying");

    const seen: number[] = [];
    expect(await runPlan(t.prisma, "p", recorder(seen))).toBe("done");
    // Step 2 was caught "running": not known done, so it runs again; 0 and 1 do not.
    expect(seen).toEqual([2, 3]);
    const after = await t.prisma.planStep.findMany({ orderBy: { position: "asc" } });
    expect(after.map((s) => [s.state, s.attempts])).toEqual([
      ["done", 1],
      ["done", 1],
      ["done", 2],
      ["done", 1],
    ]);
  }, 30_000);

  it("never reports done when a step cannot verify its outcome; retry continues from there", async () => {
    await seed(t.prisma);
    const seen: number[] = [];
    const status = await runPlan(
      t.prisma,
      "p",
      recorder(seen, (pos, attempt) => !(pos === 1 && attempt === 1)),
    );
    expect(status).toBe("failed");
    expect(seen).toEqual([0, 1]);
    const failed = await t.prisma.planStep.findFirstOrThrow({ where: { position: 1 } });
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatch(/could not be verified/);
    // Without a retry the engine does not skip past the failure.
    expect(await runPlan(t.prisma, "p", recorder(seen))).toBe("failed");
    expect(await retryStep(t.prisma, "p", 1)).toBe(true);
    expect(await runPlan(t.prisma, "p", recorder(seen))).toBe("done");
    expect(seen).toEqual([0, 1, 1, 2, 3]);
  });

  it("waits for the recovery kit, hands secrets only to the step that needs them, then forgets them", async () => {
    await seed(t.prisma, false);
    await expect(runPlan(t.prisma, "p", recorder([]))).rejects.toThrow(PlanNotReadyError);
    await t.prisma.plan.update({ where: { id: "p" }, data: { kitConfirmedAt: new Date() } });
    const given: Record<number, string[]> = {};
    await runPlan(t.prisma, "p", {
      preview: true,
      async run(_s, ctx) {
        given[ctx.position] = Object.keys(ctx.secrets).sort();
        return { verified: true };
      },
    });
    expect(given).toEqual({ 0: [], 1: ["disk.passphrase", "disk.recoveryKey"], 2: [], 3: [] });
    expect(await t.prisma.planSecret.count()).toBe(0);
  });

  it("the preview executor logs the exact commands and changes nothing; a failing op shows its error", async () => {
    await seed(t.prisma);
    const status = await runPlan(t.prisma, "p", previewExecutor({ stepMs: 0, failOnce: "node.install" }));
    expect(status).toBe("failed");
    const steps = await t.prisma.planStep.findMany({ orderBy: { position: "asc" } });
    expect(steps[1]?.log).toContain(
      "would run: cryptsetup luksFormat --type luks2 --batch-mode --cipher aes-xts-plain64 --key-size 512 --pbkdf argon2id --pbkdf-memory 262144 --pbkdf-parallel 2 --iter-time 2000 --label freehold-data --subsystem freehold --key-file - -- /dev/sdb1  < stdin: <disk.passphrase>",
    );
    expect(steps[1]?.log).toContain("would run: wipefs --all -- /dev/sdb");
    expect(steps[1]?.log).not.toContain("owner passphrase");
    expect(steps[2]?.error).toMatch(/on purpose/);
    await retryStep(t.prisma, "p", 2);
    expect(await runPlan(t.prisma, "p", previewExecutor({ stepMs: 0, failOnce: "node.install" }))).toBe(
      "done",
    );
  });

  it("runs a dashboard change (kind change, one step) without a recovery kit", async () => {
    await t.prisma.plan.create({
      data: {
        id: "c",
        kind: "change",
        status: "applying",
        steps: {
          create: [
            {
              position: 0,
              op: "updates.configure",
              input: JSON.stringify({
                security: "notify",
                reboot: "never",
                rebootTime: "04:00",
                apps: "manual",
              }),
              state: "pending",
            },
          ],
        },
      },
    });
    expect(await runPlan(t.prisma, "c", previewExecutor({ stepMs: 0 }))).toBe("done");
    const [step] = await t.prisma.planStep.findMany({ where: { planId: "c" } });
    expect(step?.state).toBe("done");
    expect(step?.log).toContain("would run: write /etc/apt/apt.conf.d/52freehold-unattended-upgrades");
  });
});
