import type { DrillRecord } from "../../_schemas/backup";
import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { compareRestore, type DrillReport, describeDrill, drillPassed } from "../../lib/backup/drill";
import { parseSnapshots, restoreArgv, snapshotsArgv, statsArgv } from "../../lib/backup/restic";
import { type AgentOp, type Host, OpError } from "../host";
import {
  type BackupLayout,
  BOX_LAYOUT,
  backupFiles,
  ensureTargetReady,
  jsonContent,
  loadConfig,
  repoOf,
  resticEnv,
  runRestic,
} from "./backup-common";

/**
 * backup.drill: proves the backup restores. The latest snapshot is restored into a fresh
 * directory under /var/tmp (after checking there is room), compared file by file with the box
 * (lib/backup/drill.ts: files unchanged since the snapshot must be byte-identical), and removed.
 * The result, with the differing paths, goes to drill.json; the op is verified only when the
 * drill passed.
 */

const schema = AgentOnlyInputSchemas["backup.drill"];

export type Compare = (restoreDir: string, paths: readonly string[]) => Promise<DrillReport>;

/** Free bytes where the drill restores, from df. */
async function freeBytes(host: Host, dir: string): Promise<number | null> {
  const r = await host.run(["df", "--output=avail", "-B1", "--", dir]);
  const n = Number(r.stdout.trim().split("\n").at(-1)?.trim());
  return Number.isFinite(n) ? n : null;
}

export function makeBackupDrill(
  layout: BackupLayout = BOX_LAYOUT,
  compare: Compare = compareRestore,
  now: () => Date = () => new Date(),
): AgentOp<typeof schema> {
  const f = backupFiles(layout);
  const tempPattern = new RegExp(
    `^${layout.drillDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/freehold-drill\\.[A-Za-z0-9]{8}$`,
  );
  return {
    name: "backup.drill",
    input: schema,
    secrets: [],
    async run(_input, _secrets, host) {
      const at = now().toISOString();
      const record = (r: DrillRecord) => host.writeFile(f.drill, jsonContent(r), 0o644);
      const empty = { checked: 0, identical: 0, changedSince: 0, deletedSince: 0, differences: [] };
      let dir: string | null = null;
      try {
        const config = await loadConfig(host, layout);
        await ensureTargetReady(host, layout, config.target);
        const repo = repoOf(layout, config.target);
        const env = await resticEnv(host, layout, config.target, repo);
        const latest = parseSnapshots((await runRestic(host, repo, env, snapshotsArgv(repo))).stdout).at(-1);
        if (!latest)
          throw new OpError("there is no snapshot to restore yet", "Run a backup first, then the drill.");
        const stats = JSON.parse((await runRestic(host, repo, env, statsArgv(repo, latest.id))).stdout);
        const size = typeof stats?.total_size === "number" ? stats.total_size : 0;
        const free = await freeBytes(host, layout.drillDir);
        if (free !== null && size > free * 0.9)
          throw new OpError(
            `the latest snapshot needs ${size} bytes to restore, ${layout.drillDir} has ${free} free`,
            "Free space on the system disk; the drill restores everything to compare it.",
          );
        const made = (
          await host.run(["mktemp", "-d", "-p", layout.drillDir, "freehold-drill.XXXXXXXX"])
        ).stdout.trim();
        if (!tempPattern.test(made)) throw new OpError(`mktemp answered an unexpected path: ${made}`);
        dir = made;
        host.progress(`restoring snapshot ${latest.short_id ?? latest.id.slice(0, 8)} to compare it`);
        await runRestic(host, repo, env, restoreArgv(repo, dir, latest.id));
        host.progress("comparing the restored files with the box");
        const report = await compare(dir, latest.paths);
        const ok = drillPassed(report);
        const message = describeDrill(report);
        await record({ at, ok, snapshotId: latest.id, ...report, message });
        return {
          changed: false,
          verified: ok,
          detail: {
            snapshot: latest.id.slice(0, 8),
            checked: report.checked,
            identical: report.identical,
            changedSince: report.changedSince,
            deletedSince: report.deletedSince,
            differences: report.differences.length,
            message,
          },
        };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await record({ at, ok: false, ...empty, message: message.slice(0, 2000) }).catch(() => undefined);
        throw error;
      } finally {
        if (dir) await host.run(["rm", "-rf", "--one-file-system", "--", dir], { okCodes: [0, 1] });
      }
    },
  };
}

export const backupDrill = makeBackupDrill();
