import type { BackupRunRecord } from "../../_schemas/backup";
import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { type BackupSummary, formatProgress, parseBackupLine, throttle } from "../../lib/backup/progress";
import { backupArgv, forgetArgv } from "../../lib/backup/restic";
import { type AgentOp, OpError } from "../host";
import {
  type BackupLayout,
  BOX_LAYOUT,
  backupFiles,
  ensureDataVolume,
  ensureTargetReady,
  jsonContent,
  loadConfig,
  readHistory,
  repoOf,
  resticEnv,
  runRestic,
} from "./backup-common";

/**
 * backup.run: one backup of what backup.configure stored, then `forget --prune` by the retention
 * policy. restic's --json status lines become progress events (percent, bytes, files, time left);
 * the outcome is recorded in backup.json (last success and last attempt) for backup.status and the
 * alert. The scheduled freehold-backup.service runs this same op (freehold-agent call backup.run).
 */

const schema = AgentOnlyInputSchemas["backup.run"];

export function makeBackupRun(
  layout: BackupLayout = BOX_LAYOUT,
  now: () => Date = () => new Date(),
): AgentOp<typeof schema> {
  const f = backupFiles(layout);
  return {
    name: "backup.run",
    input: schema,
    secrets: [],
    async run(_input, _secrets, host) {
      const started = now();
      const history = await readHistory(host, layout);
      const record = async (r: BackupRunRecord) => {
        const next = { lastSuccess: r.ok ? r : history.lastSuccess, lastAttempt: r };
        await host.writeFile(f.history, jsonContent(next), 0o644);
      };
      const skipped: string[] = [];
      try {
        const config = await loadConfig(host, layout);
        await ensureDataVolume(host, layout, config);
        await ensureTargetReady(host, layout, config.target);
        const paths: string[] = [];
        for (const p of config.paths) ((await host.exists(p)) ? paths : skipped).push(p);
        if (paths.length === 0)
          throw new OpError("none of the paths to back up exists on this box", config.paths.join(", "));

        const repo = repoOf(layout, config.target);
        const env = await resticEnv(host, layout, config.target, repo);
        let summary: BackupSummary | null = null;
        let unreadable = 0;
        const due = throttle(2000);
        host.progress(`backing up ${paths.length} paths to ${repo.repository}`);
        const r = await runRestic(host, repo, env, backupArgv(repo, { paths, excludes: config.excludes }), {
          ok: [0, 3],
          onStdoutLine: (line) => {
            const parsed = parseBackupLine(line);
            if (parsed?.kind === "status" && due()) host.progress(formatProgress(parsed.progress));
            else if (parsed?.kind === "summary") summary = parsed.summary;
            else if (parsed?.kind === "error") unreadable++;
          },
        });
        const done = summary as BackupSummary | null;
        if (!done)
          throw new OpError("restic finished without reporting a snapshot", "See journalctl for its output.");
        host.progress("removing old snapshots (forget --prune)");
        await runRestic(host, repo, env, forgetArgv(repo, config.retention));
        const incomplete = r.code === 3;
        await record({
          at: started.toISOString(),
          ok: true,
          snapshotId: done.snapshotId,
          filesNew: done.filesNew,
          filesChanged: done.filesChanged,
          bytesAdded: Math.round(done.bytesAdded),
          bytesProcessed: Math.round(done.bytesProcessed),
          durationSeconds: done.durationSeconds,
          ...(skipped.length > 0 ? { skipped } : {}),
          ...(incomplete
            ? { incomplete, message: `${unreadable || "some"} files could not be read (see the journal)` }
            : {}),
        });
        return {
          changed: true,
          verified: true,
          detail: {
            snapshot: done.snapshotId,
            filesNew: done.filesNew,
            filesChanged: done.filesChanged,
            bytesAdded: Math.round(done.bytesAdded),
            ...(skipped.length > 0 ? { skipped: skipped.join(" ") } : {}),
            ...(incomplete ? { incomplete: true } : {}),
          },
        };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await record({
          at: started.toISOString(),
          ok: false,
          message: message.slice(0, 2000),
          ...(skipped.length > 0 ? { skipped } : {}),
        }).catch(() => undefined);
        throw error;
      }
    },
  };
}

export const backupRun = makeBackupRun();
