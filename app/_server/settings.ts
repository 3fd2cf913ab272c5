import "server-only";
import { randomUUID } from "node:crypto";
import { type UpdatePolicy, UpdatePolicySchema } from "../_schemas/dashboard";
import { audit } from "../lib/audit";
import { ensureRunning } from "../lib/plan/engine";
import { db } from "./db";
import { executor } from "./setup";

/**
 * Settings changed from the dashboard go through the wizard's plan engine: each change is a plan of
 * kind "change" with one step (here updates.configure), run by the same engine and executor as
 * setup (the agent on the appliance, the preview executor elsewhere), so it is recorded,
 * resumable after a restart, verified by the op, and shown with its log. One plan at a time: a
 * change waits until no plan is applying.
 */

export class SettingBusyError extends Error {
  override name = "SettingBusyError";
}

/** The policy in force: the input of the last updates.configure step that was verified done. */
export async function currentUpdatePolicy(): Promise<UpdatePolicy | null> {
  const step = await db().planStep.findFirst({
    where: { op: "updates.configure", state: "done" },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
  });
  if (!step) return null;
  const parsed = UpdatePolicySchema.safeParse(JSON.parse(step.input));
  return parsed.success ? parsed.data : null;
}

/** The latest dashboard change and its one step (state, log, error), or null. */
export async function latestChange() {
  return db().plan.findFirst({
    where: { kind: "change" },
    orderBy: { createdAt: "desc" },
    include: { steps: { orderBy: { position: "asc" } } },
  });
}

/** A change caught "applying" by a restart of the web app runs on (its step is idempotent). */
export async function resumeChange(): Promise<void> {
  const plan = await db().plan.findFirst({ where: { kind: "change", status: "applying" } });
  if (plan) void ensureRunning(db(), plan.id, executor());
}

export async function changeUpdatePolicy(policy: UpdatePolicy, remoteAddr: string): Promise<string> {
  const id = randomUUID();
  const ex = executor();
  await db().$transaction(async (tx) => {
    if (await tx.plan.findFirst({ where: { status: "applying" } }))
      throw new SettingBusyError("Another change is being applied; try again when it is done.");
    await tx.plan.create({
      data: {
        id,
        kind: "change",
        status: "applying",
        preview: ex.preview,
        choices: JSON.stringify({ setting: "updates", policy }),
        steps: {
          create: [{ position: 0, op: "updates.configure", input: JSON.stringify(policy), state: "pending" }],
        },
      },
    });
  });
  await audit(db(), {
    actor: "owner",
    action: "setting.change",
    target: id,
    remoteAddr,
    detail: { setting: "updates", ...policy },
  });
  void ensureRunning(db(), id, ex);
  return id;
}
