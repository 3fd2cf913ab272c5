import { z } from "zod";
import { BackupTargetSchema } from "./backup";
import { QuantSchema } from "./catalog";

/** The wizard's choices, step by step, as the route handlers accept them and the draft stores them. */

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "an id");
/**
 * A device path handed to tools as a positional argument: /dev/ and segments that start with a
 * letter or digit (no "..", no leading "-", no spaces), e.g. /dev/sdb, /dev/disk/by-id/usb-X_Y-0.
 */
export const DevPathSchema = z
  .string()
  .max(128)
  .regex(/^\/dev(?:\/[A-Za-z0-9][A-Za-z0-9_:.-]*){1,5}$/, "a /dev path");
const DevPath = DevPathSchema;
const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time like 03:30");

export const WIZARD_STEPS = [
  { id: "hardware", title: "Hardware" },
  { id: "nodes", title: "Nodes" },
  { id: "models", title: "Models" },
  { id: "storage", title: "Storage" },
  { id: "network", title: "Network" },
  { id: "backups", title: "Backups" },
  { id: "updates", title: "Updates" },
  { id: "review", title: "Review" },
  { id: "recovery-kit", title: "Recovery kit" },
  { id: "apply", title: "Apply" },
] as const;
export type WizardStepId = (typeof WIZARD_STEPS)[number]["id"];

export const NodesChoiceSchema = z.strictObject({
  nodes: z.array(Id).max(50),
  priceKwh: z.number().nonnegative().max(100),
});

export const ModelsChoiceSchema = z.strictObject({
  models: z.array(z.strictObject({ id: Id, quant: QuantSchema })).max(20),
});

/** A disk passphrase (LUKS2 key slot 0): long enough to resist offline guessing. */
export const DiskPassphraseSchema = z.string().min(12, "at least 12 characters").max(512, "too long");

export const StorageChoiceSchema = z
  .strictObject({
    /** The whole disk that will hold /srv/freehold; "system" uses the free space on the boot disk. */
    disk: z.union([z.literal("system"), DevPath]),
    encrypt: z.boolean(),
    /** The disk's name as the page shows it, typed by the owner when the disk holds anything. */
    confirmErase: z.string().max(200).default(""),
    passphrase: DiskPassphraseSchema.optional(),
    passphraseConfirm: z.string().max(512).optional(),
    /** Let the box's TPM 2.0 unlock the data at boot (offered only where a TPM exists). */
    tpmUnlock: z.boolean().default(false),
  })
  .refine((s) => !s.encrypt || (s.passphrase !== undefined && s.passphrase === s.passphraseConfirm), {
    message: "Type the same passphrase twice.",
    path: ["passphraseConfirm"],
  })
  .refine((s) => s.encrypt || !s.tpmUnlock, {
    message: "Automatic unlock needs encryption.",
    path: ["tpmUnlock"],
  });

export const HostnameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "letters, digits and dashes, at most 63");

export const ExposureSchema = z.enum(["off", "lan", "internet"]);

export const NetworkChoiceSchema = z.strictObject({
  hostname: HostnameSchema,
  /** SSH for the owner's account (keys only when a key was imported). */
  ssh: z.enum(["off", "lan"]),
  /** Per chosen node: who may reach its public ports. The dashboard itself is LAN-only. */
  exposure: z.record(Id, ExposureSchema),
});

const [UsbTarget, SftpTarget, RestTarget, S3Target] = BackupTargetSchema.options;

/** The backup target as the wizard asks for it: the agent's targets, or none for now. */
export const WizardBackupTargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("none") }),
  UsbTarget,
  SftpTarget,
  RestTarget,
  S3Target.extend({
    /** Write-only: kept as a plan secret, never shown again; empty keeps the one already saved. */
    secretAccessKey: z.string().max(256).optional(),
  }),
]);

export const BackupsChoiceSchema = z.strictObject({
  target: WizardBackupTargetSchema,
  schedule: z.strictObject({ frequency: z.enum(["daily", "weekly"]), time: Time }),
  retention: z.strictObject({
    daily: z.number().int().min(0).max(365),
    weekly: z.number().int().min(0).max(104),
    monthly: z.number().int().min(0).max(120),
  }),
  /** Restore drill: restic check --read-data-subset and a test restore. */
  checkMonthly: z.boolean(),
  /** USB: format the disk (ext4) if it is blank, with nothing on it at all (the owner ticked it). */
  formatUsb: z.boolean().optional(),
});

export const UpdatesChoiceSchema = z.strictObject({
  security: z.enum(["automatic", "notify"]),
  reboot: z.enum(["never", "window"]),
  rebootTime: Time,
  apps: z.enum(["automatic", "manual"]),
});

/** Storage without the write-only passphrase fields (those go to PlanSecret). */
export const StoredStorageSchema = z.strictObject({
  disk: z.union([z.literal("system"), DevPath]),
  encrypt: z.boolean(),
  /** The disk held data and the owner typed its name: it will be erased. */
  erase: z.boolean(),
  diskLabel: z.string().max(200),
  tpmUnlock: z.boolean().default(false),
});

export const StoredBackupsSchema = BackupsChoiceSchema.extend({
  target: z.discriminatedUnion("kind", [
    WizardBackupTargetSchema.options[0],
    UsbTarget,
    SftpTarget,
    RestTarget,
    S3Target,
  ]),
});

export const WizardDraftSchema = z.strictObject({
  nodes: NodesChoiceSchema.optional(),
  models: ModelsChoiceSchema.optional(),
  storage: StoredStorageSchema.optional(),
  network: NetworkChoiceSchema.optional(),
  backups: StoredBackupsSchema.optional(),
  updates: UpdatesChoiceSchema.optional(),
});

/** The body of POST /api/setup/plan (review → create the plan). */
export const CreatePlanSchema = z.strictObject({});
export const ConfirmKitSchema = z.strictObject({ confirm: z.literal(true) });
export const RetrySchema = z.strictObject({ position: z.number().int().min(0).max(1000) });

export type NodesChoice = z.infer<typeof NodesChoiceSchema>;
export type ModelsChoice = z.infer<typeof ModelsChoiceSchema>;
export type StorageChoice = z.infer<typeof StorageChoiceSchema>;
export type NetworkChoice = z.infer<typeof NetworkChoiceSchema>;
export type BackupsChoice = z.infer<typeof BackupsChoiceSchema>;
export type UpdatesChoice = z.infer<typeof UpdatesChoiceSchema>;
export type WizardDraft = z.infer<typeof WizardDraftSchema>;
export type StoredStorage = z.infer<typeof StoredStorageSchema>;
export type StoredBackups = z.infer<typeof StoredBackupsSchema>;

/** The body of PUT /api/setup/draft: one step's choices. */
export const DraftUpdateSchema = z.discriminatedUnion("section", [
  z.strictObject({ section: z.literal("nodes"), value: NodesChoiceSchema }),
  z.strictObject({ section: z.literal("models"), value: ModelsChoiceSchema }),
  z.strictObject({ section: z.literal("storage"), value: StorageChoiceSchema }),
  z.strictObject({ section: z.literal("network"), value: NetworkChoiceSchema }),
  z.strictObject({ section: z.literal("backups"), value: BackupsChoiceSchema }),
  z.strictObject({ section: z.literal("updates"), value: UpdatesChoiceSchema }),
]);
export type DraftUpdate = z.infer<typeof DraftUpdateSchema>;
