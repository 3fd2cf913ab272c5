import { z } from "zod";

/**
 * Backups with restic: where the repository lives (the target), what goes into it, and the small
 * state files the agent keeps about runs, checks and drills. Every string here can end up in a
 * restic argv (repository, -o sftp.command, paths), so each one is a narrow pattern: no leading
 * "-", no "..", no whitespace or shell metacharacters, no newlines.
 */

/** Where a USB backup disk is mounted (the agent writes a mount unit for it). */
export const USB_MOUNT = "/mnt/freehold-backup";

/** A filesystem UUID as blkid prints it: ext4/btrfs/xfs (RFC 4122) or FAT/exFAT/NTFS serials. */
export const FsUuidSchema = z
  .string()
  .regex(
    /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}|[0-9A-Fa-f]{16})$/,
    "a filesystem UUID",
  );

/** A stable name for a disk or partition: /dev/disk/by-id/NAME (NAME as udev makes it). */
export const ByIdPathSchema = z
  .string()
  .max(200)
  .regex(/^\/dev\/disk\/by-id\/[A-Za-z0-9][A-Za-z0-9_:.+@-]*$/, "a /dev/disk/by-id/ path")
  .refine((p) => !p.includes(".."), "no '..'");

const HostName = z
  .string()
  .max(253)
  .regex(
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9a-fA-F:.]+\]$/,
    "a host name or [IPv6] address",
  );

/** A user on the SFTP server (POSIX portable names). */
const SftpUser = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/, "a user name");

/** A path on the SFTP server: relative to the user's home, or absolute; never "." or ".." segments. */
const SftpPath = z
  .string()
  .max(200)
  .regex(/^\/?[A-Za-z0-9_~][A-Za-z0-9._~-]*(?:\/[A-Za-z0-9_~][A-Za-z0-9._~-]*)*\/?$/, "a path without spaces")
  .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "no '.' or '..' segments");

/** The key types OpenSSH accepts in known_hosts, then the base64 key blob. */
const HOST_KEY_TYPES =
  "ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com";
const HOST_KEY = new RegExp(`^(?:(\\S+) )?(${HOST_KEY_TYPES}) ([A-Za-z0-9+/]{16,8192}={0,2})$`);

/**
 * The server's SSH host key, as one known_hosts line ("host ssh-ed25519 AAAA...", what
 * `ssh-keyscan` prints) or just "ssh-ed25519 AAAA...". The host field, if any, is dropped: the
 * agent writes its own known_hosts line for the target's host and port, so the key is pinned.
 */
export const KnownHostKeySchema = z
  .string()
  .trim()
  .max(9000)
  .regex(HOST_KEY, "an SSH host key line (ssh-keyscan prints it)")
  .transform((line) => {
    const m = HOST_KEY.exec(line);
    return `${m?.[2]} ${m?.[3]}`;
  });

/** An https URL without credentials, query or fragment (it is passed to restic as the repository). */
const HttpsUrl = z
  .string()
  .max(500)
  .regex(
    /^https:\/\/[A-Za-z0-9.:[\]-]+(?:\/[A-Za-z0-9._~-]+)*\/?$/,
    "an https URL without user, password, query, fragment or odd characters",
  )
  .refine((u) => {
    if (!URL.canParse(u)) return false;
    // URL() would resolve "a/../b" away: look at the path as written.
    const segments = u.replace(/^https:\/\/[^/]*/, "").split("/");
    return !segments.some((s) => s === ".." || s === ".") && new URL(u).protocol === "https:";
  }, "an https URL without '.' or '..' segments");

export const BackupTargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("usb"),
    /** The backup disk's filesystem UUID, or its /dev/disk/by-id/ name (a partition, usually). */
    device: z.union([FsUuidSchema, ByIdPathSchema]),
  }),
  z.strictObject({
    kind: z.literal("sftp"),
    user: SftpUser,
    host: HostName,
    port: z.number().int().min(1).max(65535),
    path: SftpPath,
    knownHostKey: KnownHostKeySchema,
  }),
  z.strictObject({ kind: z.literal("rest"), url: HttpsUrl }),
  z.strictObject({
    kind: z.literal("s3"),
    endpoint: HttpsUrl,
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name")
      .refine((b) => !b.includes(".."), "no '..'"),
    accessKeyId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_]{0,127}$/, "an access key id"),
  }),
]);
export type BackupTarget = z.infer<typeof BackupTargetSchema>;
export type BackupTargetInput = z.input<typeof BackupTargetSchema>;

/**
 * An absolute path to back up or to exclude: "/" then segments of safe characters (no spaces, no
 * shell or glob characters, no "." or ".."), so it can follow `--` or `--exclude` as is.
 */
export const BackupPathSchema = z
  .string()
  .max(300)
  .regex(/^(?:\/[A-Za-z0-9_][A-Za-z0-9._+@:-]*)+$/, "an absolute path of plain names")
  .refine((p) => !p.split("/").some((s) => s === ".." || s === "."), "no '.' or '..' segments");

/** How many snapshots `restic forget` keeps (per host). */
export const RetentionSchema = z.strictObject({
  daily: z.number().int().min(1).max(365),
  weekly: z.number().int().min(0).max(104),
  monthly: z.number().int().min(0).max(120),
});
export type Retention = z.infer<typeof RetentionSchema>;

/**
 * What backup.configure stores in /etc/freehold/backup/config.json: the scheduled and on-demand
 * runs (freehold-agent call backup.run) read it, so they back up what the owner configured.
 */
export const BackupConfigSchema = z.strictObject({
  target: BackupTargetSchema,
  paths: z.array(BackupPathSchema).min(1).max(100),
  excludes: z.array(BackupPathSchema).max(200),
  retention: RetentionSchema,
});
export type BackupConfig = z.infer<typeof BackupConfigSchema>;

const When = z.iso.datetime();

/**
 * A restic snapshot id: the full 64-hex id, or a prefix of it (restic's short ids are 8). It ends
 * up in restic argv and in the agent's records, so nothing but lowercase hex.
 */
export const SnapshotIdSchema = z.string().regex(/^[0-9a-f]{8,64}$/, "a restic snapshot id");

/** One backup run, as /var/lib/freehold-agent/backup/backup.json records it. */
export const BackupRunRecordSchema = z.strictObject({
  at: When,
  ok: z.boolean(),
  snapshotId: SnapshotIdSchema.optional(),
  filesNew: z.number().int().nonnegative().optional(),
  filesChanged: z.number().int().nonnegative().optional(),
  bytesAdded: z.number().int().nonnegative().optional(),
  bytesProcessed: z.number().int().nonnegative().optional(),
  durationSeconds: z.number().nonnegative().optional(),
  /** Paths configured but absent on the box (a node not installed yet). */
  skipped: z.array(z.string().max(300)).max(100).optional(),
  /** restic could not read some files (exit 3): the snapshot exists but is incomplete. */
  incomplete: z.boolean().optional(),
  message: z.string().max(2000).optional(),
});
export type BackupRunRecord = z.infer<typeof BackupRunRecordSchema>;

export const BackupHistorySchema = z.strictObject({
  lastSuccess: BackupRunRecordSchema.nullable(),
  lastAttempt: BackupRunRecordSchema.nullable(),
});
export type BackupHistory = z.infer<typeof BackupHistorySchema>;

/** A `restic check` (check.json). */
export const CheckRecordSchema = z.strictObject({
  at: When,
  ok: z.boolean(),
  /** "3/5" for --read-data-subset, "all" for --read-data, "none" for structure only. */
  readData: z.string().regex(/^(?:[1-5]\/5|all|none)$/),
  message: z.string().max(2000).optional(),
});
export type CheckRecord = z.infer<typeof CheckRecordSchema>;

/** A restore drill (drill.json). */
export const DrillRecordSchema = z.strictObject({
  at: When,
  ok: z.boolean(),
  snapshotId: SnapshotIdSchema.optional(),
  checked: z.number().int().nonnegative(),
  identical: z.number().int().nonnegative(),
  changedSince: z.number().int().nonnegative(),
  deletedSince: z.number().int().nonnegative(),
  differences: z.array(z.strictObject({ path: z.string().max(4200), reason: z.string().max(300) })).max(50),
  message: z.string().max(2000).optional(),
});
export type DrillRecord = z.infer<typeof DrillRecordSchema>;

/** What backup.status answers (the dashboard and the alert read it). */
export interface BackupStatus {
  configured: boolean;
  repository: string | null;
  lastSuccess: BackupRunRecord | null;
  lastAttempt: BackupRunRecord | null;
  lastCheck: CheckRecord | null;
  lastDrill: DrillRecord | null;
  /** ISO times of the next timer runs (null: timer not scheduled). */
  next: { backup: string | null; check: string | null; drill: string | null };
}
