import type { z } from "zod";
import {
  type BackupConfig,
  BackupConfigSchema,
  type BackupHistory,
  BackupHistorySchema,
  type BackupTarget,
  USB_MOUNT,
} from "../../_schemas/backup";
import { explainRestic, type ResticFiles, type ResticRepo, resticRepo } from "../../lib/backup/restic";
import { BACKUP_UNIT_DIR, USB_MOUNT_UNIT } from "../../lib/backup/units";
import { type ExecOptions, type ExecResult, type Host, OpError } from "../host";
import { AGENT_STATE_DIR } from "../paths";
import { MOUNTPOINT, mountedAt } from "./data-volume";

/**
 * What the backup ops share: where their files are (a layout, so tests can root it in a temp
 * directory and run the real restic), running restic with its failures explained, the USB disk's
 * mount, and the small JSON state files.
 */

export interface BackupLayout {
  /** Password, config, SFTP key and known_hosts, S3 secret: root only. */
  etcDir: string;
  /** backup.json, check.json, drill.json. */
  stateDir: string;
  cacheDir: string;
  unitDir: string;
  usbMount: string;
  /** Where the drill restores (then removes) a snapshot. */
  drillDir: string;
  /** The password file's owner (root on the box; the test's own uid in tests). */
  ownerUid: number;
  /** Refuse to back up /srv/freehold while it is not mounted (a locked volume looks empty). */
  checkDataVolume: boolean;
}

export const BOX_LAYOUT: BackupLayout = {
  etcDir: "/etc/freehold/backup",
  stateDir: `${AGENT_STATE_DIR}/backup`,
  cacheDir: "/var/cache/freehold/restic",
  unitDir: BACKUP_UNIT_DIR,
  usbMount: USB_MOUNT,
  drillDir: "/var/tmp",
  ownerUid: 0,
  checkDataVolume: true,
};

export function backupFiles(l: BackupLayout) {
  return {
    passwordFile: `${l.etcDir}/password`,
    config: `${l.etcDir}/config.json`,
    s3Secret: `${l.etcDir}/s3-secret-access-key`,
    sshKey: `${l.etcDir}/id_ed25519`,
    knownHosts: `${l.etcDir}/known_hosts`,
    cacheDir: l.cacheDir,
    usbMount: l.usbMount,
    history: `${l.stateDir}/backup.json`,
    check: `${l.stateDir}/check.json`,
    drill: `${l.stateDir}/drill.json`,
  } satisfies ResticFiles & Record<string, string>;
}

/** Long restic runs: the agent's own op time limit (or systemd's) stops them first. */
export const RESTIC_TIMEOUT_MS = 23 * 3_600_000;

/** Every exit code is an answer here: restic's failures are explained, not passed on raw. */
const ANY_CODE = Array.from({ length: 256 }, (_, i) => i);

export interface ResticRun extends Omit<ExecOptions, "okCodes" | "env"> {
  /** Exit codes that are not failures (3: a backup that could not read some files). */
  ok?: number[];
}

/** The environment restic runs in: the backend's, the S3 secret (read from its root-only file). */
export async function resticEnv(host: Host, layout: BackupLayout, target: BackupTarget, repo: ResticRepo) {
  const env: Record<string, string> = { ...repo.env, RESTIC_PROGRESS_FPS: "0.5" };
  if (target.kind === "s3") {
    const secret = (await host.readFile(backupFiles(layout).s3Secret))?.trim();
    if (!secret)
      throw new OpError(
        "the S3 secret access key is not saved on the box",
        "Enter it again in the backup settings.",
      );
    env.AWS_SECRET_ACCESS_KEY = secret;
  }
  return env;
}

/** Runs restic; a failure becomes an OpError that says what it means and what to do. */
export async function runRestic(
  host: Host,
  repo: ResticRepo,
  env: Record<string, string>,
  argv: string[],
  options: ResticRun = {},
): Promise<ExecResult> {
  const { ok = [0], ...rest } = options;
  const r = await host.run(argv, { timeoutMs: RESTIC_TIMEOUT_MS, ...rest, env, okCodes: ANY_CODE });
  if (ok.includes(r.code)) return r;
  const e = explainRestic(r.code, r.stderr, repo.repository);
  throw new OpError(e.message, e.hint);
}

/** Like runRestic, but answers the failure's kind instead of throwing (observing, not acting). */
export async function probeRestic(host: Host, repo: ResticRepo, env: Record<string, string>, argv: string[]) {
  const r = await host.run(argv, { timeoutMs: 10 * 60_000, env, okCodes: ANY_CODE });
  return r.code === 0 ? null : explainRestic(r.code, r.stderr, repo.repository);
}

export async function readJson<S extends z.ZodType>(host: Host, path: string, schema: S) {
  const text = await host.readFile(path);
  if (text === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as z.infer<S>) : null;
  } catch {
    return null;
  }
}

export const jsonContent = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The configuration backup.configure stored; the scheduled jobs and "back up now" use it. */
export async function loadConfig(host: Host, layout: BackupLayout): Promise<BackupConfig> {
  const file = backupFiles(layout).config;
  const text = await host.readFile(file);
  if (text === null)
    throw new OpError("backups are not configured on this box", "Choose a backup target in the settings.");
  let parsed: ReturnType<typeof BackupConfigSchema.safeParse>;
  try {
    parsed = BackupConfigSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = BackupConfigSchema.safeParse(null);
  }
  if (!parsed.success)
    throw new OpError(`${file} is damaged`, "Save the backup settings again to rewrite it.");
  return parsed.data;
}

export function repoOf(layout: BackupLayout, target: BackupTarget): ResticRepo {
  return resticRepo(target, backupFiles(layout));
}

export const START_USB_MOUNT = ["systemctl", "start", "--", USB_MOUNT_UNIT];

/** A USB target's disk is mounted (the mount unit started); other targets need nothing. */
export async function ensureTargetReady(host: Host, layout: BackupLayout, target: BackupTarget) {
  if (target.kind !== "usb") return;
  if (await mountedAt(host, layout.usbMount)) return;
  await host.run(START_USB_MOUNT, { okCodes: [0, 1] });
  if (!(await mountedAt(host, layout.usbMount)))
    throw new OpError(
      `the USB backup disk (${target.device}) is not mounted at ${layout.usbMount}`,
      "Plug the backup disk in (it needs a filesystem: ext4 is best), then retry; " +
        "`systemctl status 'mnt-freehold\\x2dbackup.mount'` says why it did not mount.",
    );
}

/** Backing up /srv/freehold while the encrypted volume is locked would save an empty directory. */
export async function ensureDataVolume(host: Host, layout: BackupLayout, config: BackupConfig) {
  if (!layout.checkDataVolume || !config.paths.includes(MOUNTPOINT)) return;
  if (!(await mountedAt(host, MOUNTPOINT)))
    throw new OpError(
      `the data volume is not mounted at ${MOUNTPOINT} (locked after a reboot?)`,
      "Unlock it on the dashboard; the backup runs again at its next scheduled time, or start it now.",
    );
}

export async function readHistory(host: Host, layout: BackupLayout): Promise<BackupHistory> {
  return (
    (await readJson(host, backupFiles(layout).history, BackupHistorySchema)) ?? {
      lastSuccess: null,
      lastAttempt: null,
    }
  );
}

/** Directories the backup files live in, created root-only when missing. */
export async function ensureDirs(host: Host, layout: BackupLayout): Promise<boolean> {
  const missing: string[] = [];
  for (const dir of [layout.etcDir, layout.stateDir, layout.cacheDir])
    if (!(await host.exists(dir))) missing.push(dir);
  if (missing.length === 0) return false;
  await host.run(["install", "-d", "-m", "0700", "--", ...missing]);
  return true;
}

/** "600:0": the password file's mode and owner, from stat (null when absent). */
export async function modeAndOwner(host: Host, file: string): Promise<string | null> {
  const r = await host.run(["stat", "-c", "%a:%u", "--", file], { okCodes: [0, 1] });
  return r.code === 0 ? r.stdout.trim() : null;
}
