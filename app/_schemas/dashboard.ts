import { z } from "zod";
import { AgentOnlyInputSchemas, MAX_LOG_LINES, OpInputSchemas, UnitNameSchema } from "./ops";
import { NetworkChoiceSchema } from "./wizard";

/**
 * What the dashboard reads from the agent (the `report` of system.status and service.logs, parsed
 * again on the web side) and the bodies of its route handlers.
 */

const Text = z.string().max(4000);
const IsoTime = z.string().max(40);

/** A port or a range of ports the firewall accepts (from === to for a single port). */
export const PortRuleSchema = z.strictObject({
  protocol: z.enum(["tcp", "udp"]),
  from: z.number().int().min(0).max(65535),
  to: z.number().int().min(0).max(65535),
});
export type PortRule = z.infer<typeof PortRuleSchema>;

export const FirewallSummarySchema = z.strictObject({
  /** Freehold's `table inet filter` with an input chain is loaded. */
  present: z.boolean(),
  /** The input chain's policy ("drop" is what Freehold loads). */
  inputPolicy: z.string().max(20).nullable(),
  /** Accepted only from the local network (a source-address or interface match). */
  lan: z.array(PortRuleSchema).max(500),
  /** Accepted from anywhere. */
  internet: z.array(PortRuleSchema).max(500),
});
export type FirewallSummary = z.infer<typeof FirewallSummarySchema>;

export const PendingUpdateSchema = z.strictObject({
  name: z.string().max(200),
  from: z.string().max(200).nullable(),
  to: z.string().max(200),
  security: z.boolean(),
});
export type PendingUpdate = z.infer<typeof PendingUpdateSchema>;

export const UnattendedRunSchema = z.strictObject({
  at: IsoTime,
  /** installed: all upgrades installed; nothing: nothing to do; failed; incomplete: running or cut short. */
  result: z.enum(["installed", "nothing", "failed", "incomplete"]),
  packages: z.array(z.string().max(200)).max(2000),
});
export type UnattendedRun = z.infer<typeof UnattendedRunSchema>;

export const UpdatesReportSchema = z.strictObject({
  /** null when apt could not be asked (its message in `error`). */
  pending: z.array(PendingUpdateSchema).max(5000).nullable(),
  error: Text.nullable(),
  lastRun: UnattendedRunSchema.nullable(),
  /** The last run that installed something. */
  lastAppliedAt: IsoTime.nullable(),
  rebootRequired: z.boolean(),
  rebootPackages: z.array(z.string().max(200)).max(500),
});
export type UpdatesReport = z.infer<typeof UpdatesReportSchema>;

export const UnitStateSchema = z.strictObject({
  unit: z.string().max(200),
  load: z.string().max(40),
  active: z.string().max(40),
  sub: z.string().max(40),
  enabled: z.string().max(40).nullable(),
  since: IsoTime.nullable(),
});
export type UnitState = z.infer<typeof UnitStateSchema>;

export const NodeReportSchema = z.strictObject({
  id: z.string().max(64),
  name: z.string().max(200),
  mode: z.string().max(64).nullable(),
  units: z.array(z.string().max(200)).max(20),
  /** Empty when its units are active and its health checks pass. */
  problems: z.array(Text).max(50),
});
export type NodeReport = z.infer<typeof NodeReportSchema>;

export const SystemStatusSchema = z.strictObject({
  at: IsoTime,
  updates: UpdatesReportSchema,
  /** null when nft could not be asked. */
  firewall: FirewallSummarySchema.nullable(),
  services: z.array(UnitStateSchema).max(200),
  nodes: z.array(NodeReportSchema).max(100),
});
export type SystemStatus = z.infer<typeof SystemStatusSchema>;

export const LogLineSchema = z.strictObject({
  time: IsoTime.nullable(),
  /** syslog priority: 0 emerg … 3 err, 4 warning, 6 info, 7 debug. */
  priority: z.number().int().min(0).max(7).nullable(),
  identifier: z.string().max(200).nullable(),
  message: Text,
});
export type LogLine = z.infer<typeof LogLineSchema>;

export const ServiceLogsSchema = z.strictObject({
  unit: z.string().max(200),
  lines: z.array(LogLineSchema).max(MAX_LOG_LINES),
});
export type ServiceLogs = z.infer<typeof ServiceLogsSchema>;

/** Route handler bodies. */
export const NodeRestartBodySchema = AgentOnlyInputSchemas["node.restart"];
export const ServiceLogsQuerySchema = z.strictObject({
  unit: UnitNameSchema,
  lines: z.coerce.number().int().min(1).max(MAX_LOG_LINES).default(100),
});
export const BackupStartBodySchema = z.strictObject({});
export const UpdatePolicySchema = OpInputSchemas["updates.configure"];
export type UpdatePolicy = z.infer<typeof UpdatePolicySchema>;
/** The dashboard's SSH setting: the wizard's choice ("off" or "lan"); nothing else is accepted. */
export const SshSettingSchema = z.strictObject({ ssh: NetworkChoiceSchema.shape.ssh });
export type SshSetting = z.infer<typeof SshSettingSchema>;
/** The dashboard's "Add a node": catalog ids (node.install's id), each at most once. */
export const AddNodesSchema = z.strictObject({
  ids: z
    .array(OpInputSchemas["node.install"].shape.id)
    .min(1)
    .max(20)
    .refine((ids) => new Set(ids).size === ids.length, "each node once"),
});
export type AddNodes = z.infer<typeof AddNodesSchema>;

/** backup.status's detail (app/agent/ops/backup-status.ts statusDetail), as the dashboard reads it. */
export const BackupDetailSchema = z.object({
  configured: z.boolean(),
  repository: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  lastSnapshot: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastAttemptOk: z.boolean().nullable(),
  lastAttemptMessage: z.string().nullable(),
  lastCheckAt: z.string().nullable(),
  lastCheckOk: z.boolean().nullable(),
  lastCheckReadData: z.string().nullable(),
  lastDrillAt: z.string().nullable(),
  lastDrillOk: z.boolean().nullable(),
  lastDrillMessage: z.string().nullable(),
  nextBackup: z.string().nullable(),
  nextCheck: z.string().nullable(),
  nextDrill: z.string().nullable(),
  alert: z.string().nullable(),
});
export type BackupDetail = z.infer<typeof BackupDetailSchema>;
