import "server-only";
import { randomUUID } from "node:crypto";
import type { HardwareProfile } from "../_schemas/hardware";
import type { SecretName } from "../_schemas/ops";
import type { Recommendation } from "../_schemas/recommend";
import { type WizardDraft, WizardDraftSchema } from "../_schemas/wizard";
import { audit } from "../lib/audit";
import { modelById } from "../lib/catalog/models";
import { readEnv } from "../lib/env";
import { detectHardware } from "../lib/hardware/detect";
import { agentExecutor } from "../lib/plan/agent-executor";
import { buildPlan, nodesToInstall } from "../lib/plan/build";
import { type Executor, ensureRunning } from "../lib/plan/engine";
import { previewExecutor } from "../lib/plan/preview";
import { generateRecoveryKey, generateRepositoryPassword } from "../lib/plan/secrets";
import { recommend } from "../lib/recommend";
import { db } from "./db";

export async function readDraft(): Promise<WizardDraft> {
  const row = await db().wizardDraft.findUnique({ where: { id: 1 } });
  const parsed = WizardDraftSchema.safeParse(JSON.parse(row?.data ?? "{}"));
  return parsed.success ? parsed.data : {};
}

export async function writeDraft<K extends keyof WizardDraft>(
  section: K,
  value: WizardDraft[K],
): Promise<void> {
  const draft = { ...(await readDraft()), [section]: value };
  const data = JSON.stringify(WizardDraftSchema.parse(draft));
  await db().wizardDraft.upsert({ where: { id: 1 }, create: { id: 1, data }, update: { data } });
}

/** A secret typed in a wizard step, kept (write-only) until a plan adopts it. */
export async function saveDraftSecret(name: SecretName, value: string): Promise<void> {
  await db().planSecret.upsert({
    where: { planId_name: { planId: "draft", name } },
    create: { planId: "draft", name, value },
    update: { value },
  });
}

export async function hasDraftSecret(name: SecretName): Promise<boolean> {
  return (await db().planSecret.count({ where: { planId: "draft", name } })) > 0;
}

let hardwareCache: { at: number; profile: Promise<HardwareProfile> } | null = null;
export function hardware(): Promise<HardwareProfile> {
  if (!hardwareCache || Date.now() - hardwareCache.at > 60_000) {
    const entry = { at: Date.now(), profile: detectHardware() };
    hardwareCache = entry;
    // A failed detection is not kept; a newer one that replaced it in the meantime is.
    entry.profile.catch(() => {
      if (hardwareCache === entry) hardwareCache = null;
    });
  }
  return hardwareCache.profile;
}

/** The recommendations library's view of the box with the current choices; null if it fails. */
export async function recommendation(
  draft: WizardDraft,
  override: Partial<{ nodes: string[]; models: string[] }> = {},
) {
  const profile = await hardware();
  try {
    return recommend(profile, {
      nodes: override.nodes ?? draft.nodes?.nodes ?? [],
      models: override.models ?? draft.models?.models.map((m) => `${m.id}:${m.quant}`) ?? [],
      priceKwh: draft.nodes?.priceKwh ?? 0.3,
    }) satisfies Recommendation;
  } catch (error) {
    console.error("freehold-web: recommend failed", error);
    return null;
  }
}

export async function currentPlan() {
  return db().plan.findFirst({
    where: { kind: "setup" },
    orderBy: { createdAt: "desc" },
    include: { steps: { orderBy: { position: "asc" } } },
  });
}

/** Appliance: the agent does the work. Preview (any developer machine): nothing is changed. */
export function executor(): Executor {
  const env = readEnv();
  if (env.FREEHOLD_MODE === "appliance") return agentExecutor({ socketPath: env.FREEHOLD_AGENT_SOCKET });
  return previewExecutor({
    stepMs: env.FREEHOLD_PREVIEW_STEP_MS ?? 400,
    failOnce: env.FREEHOLD_PREVIEW_FAIL_ONCE,
  });
}

/** Resumes a plan that was applying when the server stopped (or keeps the running one). */
export async function resumeIfApplying(): Promise<void> {
  const plan = await db().plan.findFirst({ where: { kind: "setup", status: "applying" } });
  if (plan?.kitConfirmedAt) void ensureRunning(db(), plan.id, executor());
}

export class PlanBuildError extends Error {
  override name = "PlanBuildError";
}

const ADOPTABLE: SecretName[] = ["owner.unixPasswordHash", "disk.passphrase", "backup.s3SecretAccessKey"];

/** Deletes plans never confirmed; the secrets the owner typed go back to the draft. */
async function releaseDraftPlans(): Promise<void> {
  await db().$transaction(async (tx) => {
    const previous = await tx.plan.findMany({
      where: { kind: "setup", status: "draft", kitConfirmedAt: null },
    });
    for (const p of previous) {
      for (const name of ADOPTABLE) {
        const has = await tx.planSecret.findUnique({ where: { planId_name: { planId: p.id, name } } });
        if (has) {
          await tx.planSecret.deleteMany({ where: { planId: "draft", name } });
          await tx.planSecret.update({
            where: { planId_name: { planId: p.id, name } },
            data: { planId: "draft" },
          });
        }
      }
      await tx.planSecret.deleteMany({ where: { planId: p.id } });
      await tx.plan.delete({ where: { id: p.id } });
    }
  });
}

/**
 * Review → plan: builds the steps from the draft, generates the recovery-kit secrets with
 * crypto.randomBytes and moves the draft secrets to the plan. A draft plan not yet applying is
 * replaced (the owner went back and changed something).
 */
/** The plan the current choices make, without storing anything (the review page shows it). */
export async function buildDraftPlan(ownerId: number) {
  const draft = await readDraft();
  const rec = await recommendation(draft);
  if (!rec) throw new PlanBuildError("The recommendations could not be computed; reload and try again.");
  let nodes: ReturnType<typeof nodesToInstall>;
  try {
    nodes = nodesToInstall(rec.nodes);
  } catch (error) {
    throw new PlanBuildError(error instanceof Error ? error.message : String(error));
  }
  const models = (draft.models?.models ?? []).flatMap((m) => {
    const model = modelById(m.id);
    return model ? [{ id: m.id, quant: m.quant, ollama: model.ollama }] : [];
  });
  const ownerRow = await db().owner.findUniqueOrThrow({ where: { id: ownerId } });
  let built: ReturnType<typeof buildPlan>;
  try {
    built = buildPlan(draft, {
      owner: { username: ownerRow.username, sshPublicKey: ownerRow.sshPublicKey },
      hasUnixPasswordHash: await hasDraftSecret("owner.unixPasswordHash"),
      nodes,
      models,
    });
  } catch (error) {
    throw new PlanBuildError(error instanceof Error ? error.message : String(error));
  }
  return { draft, built };
}

export async function createPlan(
  owner: { id: number; username: string },
  remoteAddr: string,
): Promise<string> {
  await releaseDraftPlans();
  const { draft, built } = await buildDraftPlan(owner.id);
  const id = randomUUID();
  await db().$transaction(async (tx) => {
    if (
      await tx.plan.findFirst({ where: { kind: "setup", status: { in: ["applying", "done", "failed"] } } })
    ) {
      throw new PlanBuildError("A plan is already being applied.");
    }
    await tx.plan.create({
      data: {
        id,
        kind: "setup",
        status: "draft",
        preview: executor().preview,
        choices: JSON.stringify(draft),
        steps: {
          create: built.steps.map((s, position) => ({
            position,
            op: s.op,
            input: JSON.stringify(s.input),
            state: "pending",
          })),
        },
      },
    });
    for (const name of built.adopt) {
      const moved = await tx.planSecret.updateMany({
        where: { planId: "draft", name },
        data: { planId: id },
      });
      if (moved.count !== 1)
        throw new PlanBuildError(`The ${name} is missing: go back to that step and enter it again.`);
    }
    for (const name of built.generate) {
      const value = name === "disk.recoveryKey" ? generateRecoveryKey() : generateRepositoryPassword();
      await tx.planSecret.create({ data: { planId: id, name, value } });
    }
  });
  await audit(db(), {
    actor: "owner",
    action: "plan.created",
    target: id,
    remoteAddr,
    detail: { steps: built.steps.length },
  });
  return id;
}
