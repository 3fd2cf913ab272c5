import "server-only";
import { randomUUID } from "node:crypto";
import { type UpdatePolicy, UpdatePolicySchema } from "../_schemas/dashboard";
import { OpInputSchemas, type PlanStepInput } from "../_schemas/ops";
import { audit } from "../lib/audit";
import { catalogNodeById, catalogNodes } from "../lib/catalog/local";
import { readEnv } from "../lib/env";
import { ensureRunning } from "../lib/plan/engine";
import { buildNodeAddition, installedFromSteps } from "../lib/plan/node-addition";
import { buildSshChange, type SshExposure, sshLockout } from "../lib/plan/ssh-change";
import { forgetSystemStatus, installedNodes } from "./dashboard";
import { db } from "./db";
import { executor, hardware } from "./setup";
import { volumeState } from "./volume";

/**
 * Settings changed from the dashboard go through the wizard's plan engine: each change is a plan of
 * kind "change" (updates.configure; firewall.apply then ssh.configure for SSH; node.install steps then firewall.apply to add nodes), run by the same engine and executor as
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

export type Setting = "updates" | "ssh" | "nodes";

/** The latest dashboard change of one setting (each change's `choices` start with its name) and its steps, or null. */
export async function latestChange(setting: Setting) {
  return db().plan.findFirst({
    where: { kind: "change", choices: { startsWith: `{"setting":"${setting}"` } },
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
  return startChange(
    { setting: "updates", policy },
    [{ op: "updates.configure", input: policy }],
    { setting: "updates", ...policy },
    remoteAddr,
  );
}

/** The SSH exposure in force: the `listen` of the last ssh.configure step verified done. */
export async function currentSshExposure(): Promise<SshExposure | null> {
  const step = await db().planStep.findFirst({
    where: { op: "ssh.configure", state: "done" },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
  });
  if (!step) return null;
  const parsed = OpInputSchemas["ssh.configure"].safeParse(JSON.parse(step.input));
  return parsed.success ? parsed.data.listen : null;
}

export class SettingRefusedError extends Error {
  override name = "SettingRefusedError";
}

/**
 * SSH on the LAN or off: the wizard's firewall.apply and ssh.configure steps for the setup's
 * network choices with only SSH changed (app/lib/plan/ssh-change.ts), run as one change plan.
 */
export async function changeSshExposure(
  ssh: SshExposure,
  owner: { id: number },
  remoteAddr: string,
): Promise<string> {
  const lockout = sshLockout(ssh, { appliance: readEnv().FREEHOLD_MODE === "appliance", remoteAddr });
  if (lockout) throw new SettingRefusedError(lockout);
  const setup = await doneSetupPlan();
  if (!setup) throw new SettingRefusedError("Setup is not done yet: SSH is set in the wizard.");
  const row = await db().owner.findUniqueOrThrow({ where: { id: owner.id } });
  const built = buildSshChange(
    { choices: JSON.parse(setup.choices), installed: await installedNodes() },
    { username: row.username, sshPublicKey: row.sshPublicKey },
    ssh,
    (id) => catalogNodeById(id),
  );
  if (!built.ok) throw new SettingRefusedError(built.reason);
  return startChange({ setting: "ssh", ssh }, built.steps, { setting: "ssh", ssh }, remoteAddr);
}

function doneSetupPlan() {
  return db().plan.findFirst({ where: { kind: "setup", status: "done" }, orderBy: { createdAt: "desc" } });
}

/**
 * Add nodes after setup: the wizard's node.install steps for them and the dependencies not on the
 * box yet, then the firewall rebuilt for every node (app/lib/plan/node-addition.ts), as one change
 * plan. What fits and in which mode is the wizard's recommendation for this hardware.
 */
export async function addNodes(ids: string[], remoteAddr: string): Promise<string> {
  const setup = await doneSetupPlan();
  if (!setup) throw new SettingRefusedError("Setup is not done yet: nodes are chosen in the wizard.");
  let profile: Awaited<ReturnType<typeof hardware>>;
  try {
    profile = await hardware();
  } catch (error) {
    throw new SettingRefusedError(
      `This box's hardware could not be read, so what fits is not known: ${(error as Error).message}`,
    );
  }
  const appliance = readEnv().FREEHOLD_MODE === "appliance";
  const [installed, ssh, volume] = await Promise.all([
    installedNodes(),
    currentSshExposure(),
    appliance ? volumeState() : Promise.resolve("preview" as const),
  ]);
  const built = buildNodeAddition(JSON.parse(setup.choices), installed, ids, {
    catalog: catalogNodes(),
    profile,
    ssh,
    volume,
  });
  if (!built.ok) throw new SettingRefusedError(built.reason);
  const added = built.added.map((n) => (n.mode ? `${n.id}:${n.mode}` : n.id)).join(", ");
  return startChange(
    { setting: "nodes", ids, added: built.added },
    built.steps,
    { setting: "nodes", added },
    remoteAddr,
  );
}

/** Stores a change plan (kind "change") and starts the engine on it; one plan applies at a time. */
async function startChange(
  choices: { setting: Setting } & Record<string, unknown>,
  steps: PlanStepInput[],
  detail: Record<string, string | number | boolean | null>,
  remoteAddr: string,
): Promise<string> {
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
        choices: JSON.stringify(choices),
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
  });
  await audit(db(), { actor: "owner", action: "setting.change", target: id, remoteAddr, detail });
  // The dashboard's status (firewall, services) is read again once the change is over.
  void ensureRunning(db(), id, ex).then(forgetSystemStatus);
  return id;
}

/** A change as the dashboard shows it: its status and each step's state, error and log. */
export function describeChange(change: Awaited<ReturnType<typeof latestChange>>) {
  return change
    ? {
        id: change.id,
        status: change.status,
        preview: change.preview,
        steps: change.steps.map((s) => ({
          op: s.op,
          state: s.state,
          error: s.error,
          log: s.log,
          ...(s.op === "node.install" ? { node: installedFromSteps([s])[0]?.id ?? null } : {}),
        })),
      }
    : null;
}
