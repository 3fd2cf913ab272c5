import "server-only";
import {
  type BackupDetail,
  BackupDetailSchema,
  type ServiceLogs,
  ServiceLogsSchema,
  type SystemStatus,
  SystemStatusSchema,
  type UnitState,
} from "../_schemas/dashboard";
import { type OpInput, PlanStepInputSchema } from "../_schemas/ops";
import { unitsOf } from "../agent/ops/node-units";
import { catalogNodeById } from "../lib/catalog/local";
import { readEnv } from "../lib/env";
import { AgentError, agentCall } from "../lib/plan/agent-executor";
import { type InstalledNode, installedFromSteps } from "../lib/plan/node-addition";
import { plannedFirewall } from "../lib/system/firewall";
import { FREEHOLD_UNITS } from "../lib/system/units";
import { db } from "./db";

/**
 * The dashboard's reads and actions. On the appliance each is one agent op (system.status,
 * backup.status, service.logs, node.restart, backup.start); in preview mode there is no agent, so
 * the reads return stand-ins built from the setup plan (what the box would run), marked `preview`,
 * and the actions are refused.
 */

export type Read<T> = { preview: boolean; value: T | null; error: string | null };

const appliance = () => readEnv().FREEHOLD_MODE === "appliance";

const message = (error: unknown) =>
  error instanceof AgentError ? error.message : "the agent's answer could not be read";

/** The setup plan's steps of one op (the preview stand-ins are made from them). */
async function plannedSteps<N extends "firewall.apply" | "backup.configure">(op: N) {
  const plan = await db().plan.findFirst({
    where: { kind: "setup" },
    orderBy: { createdAt: "desc" },
    include: { steps: { where: { op }, orderBy: { position: "asc" } } },
  });
  return (plan?.steps ?? []).flatMap((s) => {
    const parsed = PlanStepInputSchema.safeParse({ op: s.op, input: JSON.parse(s.input) });
    return parsed.success && parsed.data.op === op ? [parsed.data.input as OpInput<N>] : [];
  });
}

/** The input of the last verified firewall.apply (a dashboard change after setup counts too). */
async function lastAppliedFirewall(): Promise<OpInput<"firewall.apply"> | undefined> {
  const step = await db().planStep.findFirst({
    where: { op: "firewall.apply", state: "done" },
    orderBy: [{ finishedAt: "desc" }, { id: "desc" }],
  });
  if (!step) return undefined;
  const parsed = PlanStepInputSchema.safeParse({ op: step.op, input: JSON.parse(step.input) });
  return parsed.success && parsed.data.op === "firewall.apply"
    ? (parsed.data.input as OpInput<"firewall.apply">)
    : undefined;
}

/**
 * The nodes on the box: every node.install step verified done, of the setup plan and of the
 * dashboard's node additions (a failed addition's finished steps count too: those nodes are there).
 */
export async function installedNodes(): Promise<InstalledNode[]> {
  const steps = await db().planStep.findMany({
    where: { op: "node.install", state: "done" },
    orderBy: [{ finishedAt: "asc" }, { id: "asc" }],
    select: { op: true, input: true },
  });
  return installedFromSteps(steps);
}

async function previewStatus(): Promise<SystemStatus> {
  const nodes = (await installedNodes()).flatMap((input) => {
    const node = catalogNodeById(input.id);
    return node
      ? [{ id: node.id, name: node.name, mode: input.mode ?? null, units: unitsOf(node), problems: [] }]
      : [];
  });
  const firewall = (await lastAppliedFirewall()) ?? (await plannedSteps("firewall.apply"))[0];
  const state = (unit: string): UnitState => ({
    unit,
    load: "preview",
    active: "preview",
    sub: "not run in preview",
    enabled: null,
    since: null,
  });
  return {
    at: new Date().toISOString(),
    updates: {
      pending: [],
      error: null,
      lastRun: null,
      lastAppliedAt: null,
      rebootRequired: false,
      rebootPackages: [],
    },
    firewall: firewall ? plannedFirewall(firewall) : null,
    services: [...FREEHOLD_UNITS, ...nodes.flatMap((n) => n.units)].map(state),
    nodes,
  };
}

/**
 * Process-wide, like the plan runners: route handlers and pages may be bundled apart (each with its
 * own copy of this module), and a change started by a route must clear the page's cache too.
 */
const shared = globalThis as unknown as {
  freeholdStatusCache?: { at: number; value: Promise<Read<SystemStatus>> } | null;
};
const STATUS_TTL_MS = 20_000;

/** The next systemStatus() asks again (a change of the firewall or SSH just finished). */
export function forgetSystemStatus(): void {
  shared.freeholdStatusCache = null;
}

/** system.status, cached for 20 s (apt's simulation takes seconds on a small box); `fresh` skips the cache. */
export function systemStatus(fresh = false): Promise<Read<SystemStatus>> {
  const cached = shared.freeholdStatusCache;
  if (!fresh && cached && Date.now() - cached.at < STATUS_TTL_MS) return cached.value;
  const value = (async (): Promise<Read<SystemStatus>> => {
    if (!appliance()) return { preview: true, value: await previewStatus(), error: null };
    try {
      const answer = await agentCall("system.status", {}, {}, { timeoutMs: 3 * 60_000 });
      const parsed = SystemStatusSchema.safeParse(answer.report);
      return parsed.success
        ? { preview: false, value: parsed.data, error: null }
        : { preview: false, value: null, error: "the agent's status report does not match this web app" };
    } catch (error) {
      console.error(`freehold-web: system.status failed: ${(error as Error).message}`);
      return { preview: false, value: null, error: message(error) };
    }
  })();
  shared.freeholdStatusCache = { at: Date.now(), value };
  value.then((r) => {
    if (r.error && shared.freeholdStatusCache?.value === value) shared.freeholdStatusCache = null;
  });
  return value;
}

export async function backupStatus(): Promise<Read<BackupDetail>> {
  if (!appliance()) {
    const configured = (await plannedSteps("backup.configure")).length > 0;
    const empty = Object.fromEntries(Object.keys(BackupDetailSchema.shape).map((k) => [k, null]));
    return { preview: true, value: BackupDetailSchema.parse({ ...empty, configured }), error: null };
  }
  try {
    const answer = await agentCall("backup.status", {}, {}, { timeoutMs: 60_000 });
    const parsed = BackupDetailSchema.safeParse(answer.detail);
    return parsed.success
      ? { preview: false, value: parsed.data, error: null }
      : { preview: false, value: null, error: "the agent's backup status does not match this web app" };
  } catch (error) {
    console.error(`freehold-web: backup.status failed: ${(error as Error).message}`);
    return { preview: false, value: null, error: message(error) };
  }
}

/** The unit's last lines; AgentError when the agent refuses (not an allowed unit) or fails. */
export async function serviceLogs(unit: string, lines: number): Promise<ServiceLogs> {
  const answer = await agentCall("service.logs", { unit, lines }, {}, { timeoutMs: 60_000 });
  return ServiceLogsSchema.parse(answer.report);
}

export async function restartNode(id: string): Promise<{ verified: boolean; problems: string | null }> {
  const answer = await agentCall("node.restart", { id }, {}, { timeoutMs: 15 * 60_000 });
  shared.freeholdStatusCache = null;
  const problems = answer.detail?.problems;
  return { verified: answer.verified, problems: typeof problems === "string" ? problems : null };
}

export async function startBackup(): Promise<{ verified: boolean; state: string }> {
  const answer = await agentCall("backup.start", {}, {}, { timeoutMs: 2 * 60_000 });
  shared.freeholdStatusCache = null;
  return { verified: answer.verified, state: String(answer.detail?.state ?? "unknown") };
}
