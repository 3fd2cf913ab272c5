import { type BackupTarget, type Retention, USB_MOUNT } from "../../_schemas/backup";

/**
 * restic argv arrays, built from validated inputs only. The repository goes in `--repo`, the
 * password only ever as `--password-file` (a root-only file), so no secret is in any argv; the S3
 * secret key travels in the child's environment (AWS_SECRET_ACCESS_KEY), read from a root-only file
 * by the agent. Positional arguments follow `--`.
 */

/** The files a repository needs on the box; the agent's layout fills them (tests use a temp dir). */
export interface ResticFiles {
  passwordFile: string;
  cacheDir: string;
  /** SFTP: the box's private key and the pinned known_hosts file. */
  sshKey: string;
  knownHosts: string;
  /** Where a USB target is mounted. */
  usbMount: string;
}

/** What every restic invocation of one repository shares. */
export interface ResticRepo {
  repository: string;
  passwordFile: string;
  cacheDir: string;
  /** `-o key=value` backend options (sftp.command). */
  options: string[];
  /** Environment the backend needs, without secrets (AWS_ACCESS_KEY_ID). */
  env: Record<string, string>;
}

/** Snapshots we make carry this tag; forget only ever touches snapshots with it. */
export const TAG = "freehold";

/** The repository a target names, as restic spells it. */
export function repositoryOf(target: BackupTarget, usbMount = USB_MOUNT): string {
  switch (target.kind) {
    case "usb":
      return `${usbMount}/freehold-restic`;
    case "sftp":
      return `sftp:${target.user}@${target.host}:${target.path}`;
    case "rest":
      return `rest:${target.url}`;
    case "s3":
      return `s3:${target.endpoint.replace(/\/$/, "")}/${target.bucket}`;
  }
}

/**
 * The ssh command restic runs for SFTP: the box's own key, the pinned host key only (no
 * trust-on-first-use), never a password prompt. restic splits this on spaces itself (no shell).
 */
export function sftpCommand(target: Extract<BackupTarget, { kind: "sftp" }>, files: ResticFiles): string {
  const host = target.host.replace(/^\[(.*)\]$/, "$1");
  return [
    "ssh",
    "-i",
    files.sshKey,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${files.knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ServerAliveInterval=60",
    "-p",
    String(target.port),
    "-l",
    target.user,
    "-s",
    "--",
    host,
    "sftp",
  ].join(" ");
}

/** The known_hosts line that pins the SFTP server's key for its host and port. */
export function knownHostsLine(target: Extract<BackupTarget, { kind: "sftp" }>): string {
  const host = target.host.replace(/^\[(.*)\]$/, "$1");
  const name = target.port === 22 ? host : `[${host}]:${target.port}`;
  return `${name} ${target.knownHostKey}\n`;
}

export function resticRepo(target: BackupTarget, files: ResticFiles): ResticRepo {
  return {
    repository: repositoryOf(target, files.usbMount),
    passwordFile: files.passwordFile,
    cacheDir: files.cacheDir,
    options: target.kind === "sftp" ? [`sftp.command=${sftpCommand(target, files)}`] : [],
    env: target.kind === "s3" ? { AWS_ACCESS_KEY_ID: target.accessKeyId } : {},
  };
}

/** `restic --repo R --password-file F --cache-dir C [-o ...]`: the head of every command. */
export function resticHead(repo: ResticRepo): string[] {
  return [
    "restic",
    "--repo",
    repo.repository,
    "--password-file",
    repo.passwordFile,
    "--cache-dir",
    repo.cacheDir,
    ...repo.options.flatMap((o) => ["-o", o]),
  ];
}

export const initArgv = (repo: ResticRepo) => [...resticHead(repo), "init"];

/** Succeeds only when the repository exists and the password opens it. */
export const catConfigArgv = (repo: ResticRepo) => [...resticHead(repo), "cat", "--", "config"];

export interface BackupArgs {
  paths: readonly string[];
  excludes: readonly string[];
  /** A snapshot time other than now (tests make synthetic histories with it). */
  time?: string;
}

export function backupArgv(repo: ResticRepo, args: BackupArgs): string[] {
  return [
    ...resticHead(repo),
    "backup",
    "--json",
    "--tag",
    TAG,
    "--exclude-caches",
    ...args.excludes.flatMap((e) => ["--exclude", e]),
    ...(args.time ? ["--time", args.time] : []),
    "--",
    ...args.paths,
  ];
}

/** The retention policy as restic flags (snapshots of this host, whatever paths they had). */
export function retentionFlags(r: Retention): string[] {
  return [
    "--keep-daily",
    String(r.daily),
    ...(r.weekly > 0 ? ["--keep-weekly", String(r.weekly)] : []),
    ...(r.monthly > 0 ? ["--keep-monthly", String(r.monthly)] : []),
  ];
}

export function forgetArgv(repo: ResticRepo, r: Retention): string[] {
  return [
    ...resticHead(repo),
    "forget",
    "--json",
    "--tag",
    TAG,
    "--group-by",
    "host",
    ...retentionFlags(r),
    "--prune",
  ];
}

/** "none": structure only; "all": every pack; "N/5": the Nth fifth of the packs. */
export type ReadData = "none" | "all" | `${1 | 2 | 3 | 4 | 5}/5`;

export function checkArgv(repo: ResticRepo, readData: ReadData): string[] {
  const flag =
    readData === "none" ? [] : readData === "all" ? ["--read-data"] : [`--read-data-subset=${readData}`];
  return [...resticHead(repo), "check", ...flag];
}

export function snapshotsArgv(repo: ResticRepo): string[] {
  return [...resticHead(repo), "snapshots", "--json", "--tag", TAG];
}

/** Restores one snapshot's full paths under `dir` (dir/srv/freehold/...). */
export function restoreArgv(repo: ResticRepo, dir: string, snapshot = "latest"): string[] {
  return [...resticHead(repo), "restore", "--tag", TAG, "--target", dir, "--", snapshot];
}

/** Size of a snapshot as restored (restic stats, restore-size mode). */
export function statsArgv(repo: ResticRepo, snapshot = "latest"): string[] {
  return [...resticHead(repo), "stats", "--json", "--tag", TAG, "--", snapshot];
}

/** The snapshot list restic prints with --json (the fields we use). */
export interface Snapshot {
  id: string;
  short_id?: string;
  time: string;
  paths: string[];
  hostname?: string;
  tags?: string[] | null;
}

export function parseSnapshots(stdout: string): Snapshot[] {
  const parsed: unknown = JSON.parse(stdout || "[]");
  if (!Array.isArray(parsed)) throw new Error("restic snapshots --json did not print a list");
  return parsed
    .filter(
      (s): s is Snapshot =>
        typeof s === "object" &&
        s !== null &&
        typeof (s as Snapshot).id === "string" &&
        typeof (s as Snapshot).time === "string",
    )
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

export class ResticError extends Error {
  override name = "ResticError";
  constructor(
    message: string,
    readonly hint: string,
    readonly kind: ResticFailure,
  ) {
    super(message);
  }
}

export type ResticFailure =
  | "wrong-password"
  | "no-repository"
  | "locked"
  | "ssh-key-refused"
  | "host-key-mismatch"
  | "unreachable"
  | "no-space"
  | "repository-damaged"
  | "incomplete"
  | "failed";

/**
 * What a failed restic run means, for the owner: restic 0.14 exits 1 for nearly everything (0.17+
 * adds 10 no repository, 11 locked, 12 wrong password), so the text on stderr decides.
 */
export function explainRestic(code: number, stderr: string, repository: string): ResticError {
  const text = stderr.toLowerCase();
  const last = stderr.trim().split("\n").filter(Boolean).at(-1)?.slice(0, 300) ?? "";
  const e = (kind: ResticFailure, message: string, hint: string) => new ResticError(message, hint, kind);
  if (code === 12 || text.includes("wrong password or no key found"))
    return e(
      "wrong-password",
      `the backup password does not open the repository at ${repository}`,
      "The repository was made with another password. Put the backup password from your recovery kit " +
        "into /etc/freehold/backup/password (owner root, mode 0600) and retry, or choose an empty target.",
    );
  if (code === 11 || text.includes("repository is already locked"))
    return e(
      "locked",
      `another backup job is using the repository at ${repository}`,
      "Wait for it to finish (a scheduled backup, check or drill) and retry. If no job is running, a " +
        "crashed one left a stale lock: `restic unlock` removes it.",
    );
  if (text.includes("permission denied (publickey"))
    return e(
      "ssh-key-refused",
      `the SFTP server refused this box's SSH key (${repository})`,
      "Add the box's public key (shown with the backup settings) to ~/.ssh/authorized_keys of that " +
        "user on the server, then retry.",
    );
  if (
    text.includes("host key verification failed") ||
    text.includes("remote host identification has changed")
  )
    return e(
      "host-key-mismatch",
      `the SFTP server's host key is not the one you entered (${repository})`,
      "Check the key with the server's owner (ssh-keyscan prints it); if the server was reinstalled, " +
        "enter its new key. Never accept a changed key you cannot explain.",
    );
  if (
    code === 10 ||
    text.includes("is there a repository at the following location") ||
    text.includes("repository does not exist") ||
    text.includes("unable to open config file")
  )
    return e(
      "no-repository",
      `there is no restic repository at ${repository}`,
      "Configure backups again (it creates the repository); for a USB disk, check that it is plugged in.",
    );
  if (text.includes("no space left on device"))
    return e(
      "no-space",
      `the backup target is full (${repository})`,
      "Free space there, keep fewer snapshots, or choose a larger target.",
    );
  if (text.includes("repository contains errors") || (text.includes("pack") && text.includes("not found")))
    return e(
      "repository-damaged",
      `restic check found damage in the repository at ${repository}`,
      "Run `restic check --read-data` to see which packs; then `restic repair` (restic 0.16+) or start a " +
        "new repository and keep the damaged one until a new backup succeeded.",
    );
  if (
    /no such host|connection refused|network is unreachable|i\/o timeout|connection timed out|could not resolve|dial tcp/.test(
      text,
    )
  )
    return e(
      "unreachable",
      `the backup target cannot be reached (${repository})`,
      "Check that the server is up and reachable from the box, then retry.",
    );
  if (code === 3)
    return e(
      "incomplete",
      "the snapshot was saved, but some files could not be read",
      "See which files in the backup's log (journalctl -u freehold-backup); files that change while " +
        "being read (databases) need a dump first.",
    );
  return e(
    "failed",
    `restic failed (exit ${code})${last ? `: ${last}` : ""}`,
    "See `journalctl -u freehold-agent` or `journalctl -u freehold-backup` for restic's full output.",
  );
}
