import { type BackupStatus, CheckRecordSchema, DrillRecordSchema } from "../../_schemas/backup";
import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { backupAlert } from "../../lib/backup/policy";
import { repositoryOf } from "../../lib/backup/restic";
import { TIMERS } from "../../lib/backup/units";
import type { AgentOp, Host } from "../host";
import {
  type BackupLayout,
  BOX_LAYOUT,
  backupFiles,
  loadConfig,
  readHistory,
  readJson,
} from "./backup-common";

/**
 * backup.status: what the dashboard shows about backups, read without touching the repository
 * (it may be on a disk that is not plugged in): the last success and attempt, the last check and
 * drill (the JSON files the other backup ops write), and when the timers run next.
 */

const schema = AgentOnlyInputSchemas["backup.status"];

/** `NextElapseUSecRealtime=@1735800097` (systemctl show --timestamp=unix) as an ISO time. */
export function parseNextElapse(stdout: string): string | null {
  const m = /^NextElapseUSecRealtime=@(\d+)$/m.exec(stdout);
  return m?.[1] ? new Date(Number(m[1]) * 1000).toISOString() : null;
}

export const showNextArgv = (timer: string) => [
  "systemctl",
  "show",
  "--property=NextElapseUSecRealtime",
  "--timestamp=unix",
  "--",
  timer,
];

async function next(host: Host, timer: string): Promise<string | null> {
  const r = await host.run(showNextArgv(timer), { okCodes: [0, 1] });
  return r.code === 0 ? parseNextElapse(r.stdout) : null;
}

export async function readStatus(host: Host, layout: BackupLayout): Promise<BackupStatus> {
  const f = backupFiles(layout);
  const configured = await host.exists(f.config);
  const config = configured ? await loadConfig(host, layout).catch(() => null) : null;
  const history = await readHistory(host, layout);
  return {
    configured,
    repository: config ? repositoryOf(config.target, layout.usbMount) : null,
    lastSuccess: history.lastSuccess,
    lastAttempt: history.lastAttempt,
    lastCheck: await readJson(host, f.check, CheckRecordSchema),
    lastDrill: await readJson(host, f.drill, DrillRecordSchema),
    next: {
      backup: configured ? await next(host, TIMERS.backup) : null,
      check: configured ? await next(host, TIMERS.check) : null,
      drill: configured ? await next(host, TIMERS.drill) : null,
    },
  };
}

/** The status as the flat detail an op returns (strings, numbers, booleans, null). */
export function statusDetail(s: BackupStatus, now: Date): Record<string, string | number | boolean | null> {
  const alert = s.configured
    ? backupAlert({ lastSuccess: s.lastSuccess, lastAttempt: s.lastAttempt }, now)
    : null;
  return {
    configured: s.configured,
    repository: s.repository,
    lastSuccessAt: s.lastSuccess?.at ?? null,
    lastSnapshot: s.lastSuccess?.snapshotId ?? null,
    lastAttemptAt: s.lastAttempt?.at ?? null,
    lastAttemptOk: s.lastAttempt?.ok ?? null,
    lastAttemptMessage: s.lastAttempt?.message ?? null,
    lastCheckAt: s.lastCheck?.at ?? null,
    lastCheckOk: s.lastCheck?.ok ?? null,
    lastCheckReadData: s.lastCheck?.readData ?? null,
    lastDrillAt: s.lastDrill?.at ?? null,
    lastDrillOk: s.lastDrill?.ok ?? null,
    lastDrillMessage: s.lastDrill?.message ?? null,
    nextBackup: s.next.backup,
    nextCheck: s.next.check,
    nextDrill: s.next.drill,
    alert: alert ? `${alert.level}: ${alert.message}` : null,
  };
}

export function makeBackupStatus(
  layout: BackupLayout = BOX_LAYOUT,
  now: () => Date = () => new Date(),
): AgentOp<typeof schema> {
  return {
    name: "backup.status",
    input: schema,
    secrets: [],
    readOnly: true,
    async run(_input, _secrets, host) {
      const status = await readStatus(host, layout);
      return { changed: false, verified: true, detail: statusDetail(status, now()) };
    },
  };
}

export const backupStatus = makeBackupStatus();
