import type { CheckRecord } from "../../_schemas/backup";
import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { weeklySubset } from "../../lib/backup/policy";
import { checkArgv, type ReadData } from "../../lib/backup/restic";
import type { AgentOp } from "../host";
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
 * backup.check: `restic check`, reading this ISO week's fifth of the packs by default
 * (--read-data-subset=N/5: five weeks read everything once), or all of them, or none (structure
 * only). The result goes to check.json; a damaged repository fails the op with what to do.
 */

const schema = AgentOnlyInputSchemas["backup.check"];

export function makeBackupCheck(
  layout: BackupLayout = BOX_LAYOUT,
  now: () => Date = () => new Date(),
): AgentOp<typeof schema> {
  const f = backupFiles(layout);
  return {
    name: "backup.check",
    input: schema,
    secrets: [],
    async run(input, _secrets, host) {
      const at = now();
      const mode = input.readData ?? "weekly-subset";
      const readData: ReadData = mode === "weekly-subset" ? weeklySubset(at) : mode;
      const record = (r: CheckRecord) => host.writeFile(f.check, jsonContent(r), 0o644);
      try {
        const config = await loadConfig(host, layout);
        await ensureTargetReady(host, layout, config.target);
        const repo = repoOf(layout, config.target);
        const env = await resticEnv(host, layout, config.target, repo);
        host.progress(`checking ${repo.repository} (read data: ${readData})`);
        await runRestic(host, repo, env, checkArgv(repo, readData));
        await record({ at: at.toISOString(), ok: true, readData });
        return { changed: false, verified: true, detail: { readData, repository: repo.repository } };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await record({ at: at.toISOString(), ok: false, readData, message: message.slice(0, 2000) }).catch(
          () => undefined,
        );
        throw error;
      }
    },
  };
}

export const backupCheck = makeBackupCheck();
