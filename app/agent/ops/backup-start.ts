import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { BACKUP_SERVICE, parseShowBlocks } from "../../lib/system/units";
import { type AgentOp, type Host, OpError } from "../host";
import { type BackupLayout, BOX_LAYOUT, backupFiles } from "./backup-common";

/**
 * backup.start: "Back up now". A backup can take hours, and the agent runs one op at a time, so the
 * dashboard does not run backup.run over the socket: this op starts freehold-backup.service (the
 * unit the timer starts, whose ExecStart is `agent.mjs call backup.run`) with --no-block and
 * returns once systemd has it running. Progress is in that unit's journal; the outcome in
 * backup.status (the dashboard polls both). Already running: nothing to do.
 */

const schema = AgentOnlyInputSchemas["backup.start"];
const RUNNING = new Set(["activating", "active", "reloading"]);

export const showBackupArgv = [
  "systemctl",
  "show",
  "--property=ActiveState,InvocationID",
  "--",
  BACKUP_SERVICE,
];
export const startBackupArgv = ["systemctl", "start", "--no-block", "--", BACKUP_SERVICE];

async function observe(host: Host): Promise<{ active: string; invocation: string }> {
  const b = parseShowBlocks((await host.run(showBackupArgv)).stdout)[0] ?? {};
  return { active: b.ActiveState ?? "unknown", invocation: b.InvocationID ?? "" };
}

export function makeBackupStart(
  layout: BackupLayout = BOX_LAYOUT,
  wait: { attempts: number; intervalMs: number } = { attempts: 20, intervalMs: 500 },
): AgentOp<typeof schema> {
  return {
    name: "backup.start",
    input: schema,
    secrets: [],
    async run(_input, _secrets, host) {
      const before = await observe(host);
      if (RUNNING.has(before.active))
        return { changed: false, verified: true, detail: { state: "running", unit: BACKUP_SERVICE } };
      if (!(await host.exists(backupFiles(layout).config)))
        throw new OpError("backups are not set up on this box", "Choose a backup target first.");
      await host.run(startBackupArgv);
      let after = await observe(host);
      for (
        let i = 1;
        i < wait.attempts && !RUNNING.has(after.active) && after.invocation === before.invocation;
        i++
      ) {
        await new Promise((r) => setTimeout(r, wait.intervalMs));
        after = await observe(host);
      }
      // Running now, or already over (a new invocation: it ran and ended; backup.status has the outcome).
      const started =
        RUNNING.has(after.active) || (after.invocation !== "" && after.invocation !== before.invocation);
      return {
        changed: true,
        verified: started,
        detail: { state: RUNNING.has(after.active) ? "running" : after.active, unit: BACKUP_SERVICE },
      };
    },
  };
}

export const backupStart = makeBackupStart();
