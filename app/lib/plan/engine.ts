import { type PlanStepInput, PlanStepInputSchema, type SecretName } from "../../_schemas/ops";
import type { PlanStatus } from "../../_schemas/state";
import type { PrismaClient } from "../../_server/generated/prisma/client";
import { secretsOf } from "./ops";

/**
 * The plan engine. Each step's state is written before it runs ("running", attempts + 1) and
 * after ("done" only when the executor verified the outcome, else "failed"), so a restart resumes
 * at the first step that is not known to be done: a step caught "running" by a crash runs again
 * (every op is idempotent: observe, apply if needed, verify). The plan is "done" only when every
 * step is. Secrets are read from PlanSecret just for the step that needs them, and deleted once no
 * step that is not done still refers to them.
 */

export interface StepContext {
  position: number;
  attempt: number;
  secrets: Partial<Record<SecretName, string>>;
  log: (line: string) => Promise<void>;
}

export interface StepOutcome {
  /** The executor observed the desired state after acting. */
  verified: boolean;
}

export interface Executor {
  /** True when nothing on the host is changed (the preview executor). */
  readonly preview: boolean;
  run(step: PlanStepInput, ctx: StepContext): Promise<StepOutcome>;
}

export class PlanNotReadyError extends Error {
  override name = "PlanNotReadyError";
}

const MAX_LOG = 64 * 1024;

export async function runPlan(db: PrismaClient, planId: string, executor: Executor): Promise<PlanStatus> {
  const plan = await db.plan.findUnique({ where: { id: planId } });
  if (!plan) throw new PlanNotReadyError(`no plan ${planId}`);
  // Setup hands out a recovery kit first; a dashboard change (kind "change") has none to confirm.
  if (plan.kind === "setup" && !plan.kitConfirmedAt)
    throw new PlanNotReadyError("the recovery kit has not been confirmed");
  if (plan.status === "done") return "done";
  await db.plan.update({ where: { id: planId }, data: { status: "applying", finishedAt: null } });

  for (;;) {
    const steps = await db.planStep.findMany({ where: { planId }, orderBy: { position: "asc" } });
    const next = steps.find((s) => s.state !== "done");
    if (!next) {
      await db.plan.update({ where: { id: planId }, data: { status: "done", finishedAt: new Date() } });
      return "done";
    }
    if (next.state === "failed") {
      // A failed step waits for the owner's retry (which sets it back to "pending").
      await db.plan.update({ where: { id: planId }, data: { status: "failed" } });
      return "failed";
    }

    const attempt = next.attempts + 1;
    let log = next.log;
    const append = async (line: string) => {
      log = `${log}${line}\n`.slice(-MAX_LOG);
      await db.planStep.update({ where: { id: next.id }, data: { log } });
    };
    // Before: the step is running. A crash from here on leaves it "running", never "done".
    await db.planStep.update({
      where: { id: next.id },
      data: { state: "running", attempts: attempt, startedAt: new Date(), finishedAt: null, error: null },
    });

    let outcome: StepOutcome;
    try {
      const step = PlanStepInputSchema.parse({ op: next.op, input: JSON.parse(next.input) }) as PlanStepInput;
      const names = secretsOf(step);
      const rows = await db.planSecret.findMany({ where: { planId, name: { in: names } } });
      const secrets: Partial<Record<SecretName, string>> = {};
      for (const row of rows) secrets[row.name as SecretName] = row.value;
      const missing = names.filter((n) => secrets[n] === undefined);
      if (missing.length > 0) throw new Error(`missing secret(s): ${missing.join(", ")}`);
      await append(`— attempt ${attempt}${executor.preview ? " (preview: nothing is changed)" : ""} —`);
      outcome = await executor.run(step, { position: next.position, attempt, secrets, log: append });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await db.planStep.update({
        where: { id: next.id },
        data: { state: "failed", finishedAt: new Date(), error: message.slice(0, 2000), log },
      });
      await db.plan.update({ where: { id: planId }, data: { status: "failed" } });
      return "failed";
    }

    if (!outcome.verified) {
      await db.planStep.update({
        where: { id: next.id },
        data: {
          state: "failed",
          finishedAt: new Date(),
          error: "The step ran but its outcome could not be verified.",
        },
      });
      await db.plan.update({ where: { id: planId }, data: { status: "failed" } });
      return "failed";
    }
    // After: verified done.
    await db.planStep.update({
      where: { id: next.id },
      data: { state: "done", finishedAt: new Date(), log },
    });
    await forgetConsumedSecrets(db, planId);
  }
}

/** Deletes plan secrets that no unfinished step refers to any more. */
export async function forgetConsumedSecrets(db: PrismaClient, planId: string): Promise<void> {
  const pending = await db.planStep.findMany({ where: { planId, state: { not: "done" } } });
  const needed = new Set<string>();
  for (const s of pending) {
    const parsed = PlanStepInputSchema.safeParse({ op: s.op, input: JSON.parse(s.input) });
    if (parsed.success) for (const n of secretsOf(parsed.data as PlanStepInput)) needed.add(n);
  }
  await db.planSecret.deleteMany({ where: { planId, name: { notIn: [...needed] } } });
}

/** The owner asked to retry a failed step: it becomes pending again, and the plan applying. */
export async function retryStep(db: PrismaClient, planId: string, position: number): Promise<boolean> {
  const result = await db.planStep.updateMany({
    where: { planId, position, state: "failed" },
    data: { state: "pending", error: null },
  });
  if (result.count === 1) await db.plan.update({ where: { id: planId }, data: { status: "applying" } });
  return result.count === 1;
}

type Running = Map<string, Promise<PlanStatus>>;
const globalRunning = globalThis as unknown as { freeholdPlanRunners?: Running };

/**
 * Starts the engine for a plan unless it already runs in this process. Called when apply starts,
 * on retry, and whenever a page asks for the plan's progress, so a server restart resumes the work.
 */
export function ensureRunning(db: PrismaClient, planId: string, executor: Executor): Promise<PlanStatus> {
  globalRunning.freeholdPlanRunners ??= new Map();
  const running = globalRunning.freeholdPlanRunners;
  const current = running.get(planId);
  if (current) return current;
  const promise = runPlan(db, planId, executor)
    .catch((error: unknown) => {
      console.error(
        `freehold-web: plan ${planId} stopped: ${error instanceof Error ? error.message : error}`,
      );
      return "failed" as const;
    })
    .finally(() => running.delete(planId));
  running.set(planId, promise);
  return promise;
}

export function isRunning(planId: string): boolean {
  return globalRunning.freeholdPlanRunners?.has(planId) ?? false;
}
