import { z } from "zod";
import { SshPublicKeySchema, UsernameSchema } from "./auth";
import { QuantSchema } from "./catalog";
import { BackupTargetSchema, DevPathSchema, HostnameSchema } from "./wizard";

/**
 * The agent's operations as plan steps: each op's input schema. Secrets never appear in an input:
 * a SecretRef names a PlanSecret that the engine hands to the executor, which passes it on stdin.
 */

export const SECRET_NAMES = [
  "owner.unixPasswordHash",
  "disk.passphrase",
  "disk.recoveryKey",
  "backup.repositoryPassword",
  "backup.s3SecretAccessKey",
] as const;
export const SecretNameSchema = z.enum(SECRET_NAMES);
export type SecretName = z.infer<typeof SecretNameSchema>;
export const SecretRefSchema = z.strictObject({ secret: SecretNameSchema });

const DevPath = DevPathSchema;
/** Same rules as the claim form: lower-case, 2 to 31 characters, never a system account. */
const Username = UsernameSchema;
const Id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/);
const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);
const Port = z.strictObject({ port: z.number().int().min(1).max(65535), protocol: z.enum(["tcp", "udp"]) });

export const OpInputSchemas = {
  "user.ensure": z.strictObject({
    username: Username,
    /** A crypt(3) hash for chpasswd -e; absent leaves the password locked (SSH keys only). */
    passwordHash: SecretRefSchema.optional(),
    /** One OpenSSH public key per entry (one line each: no options, no second key smuggled in). */
    sshAuthorizedKeys: z.array(SshPublicKeySchema).max(20),
    sudo: z.boolean(),
  }),
  "hostname.set": z.strictObject({ hostname: HostnameSchema }),
  "volume.encrypt": z.strictObject({
    /** A whole disk, or "system" for the data partition the first boot made from free space. */
    device: z.union([z.literal("system"), DevPath]),
    /** The disk holds other data and the owner confirmed it by name. */
    erase: z.boolean(),
    encrypt: z.boolean(),
    passphrase: SecretRefSchema.optional(),
    recoveryKey: SecretRefSchema.optional(),
    mountpoint: z.literal("/srv/freehold"),
  }),
  "firewall.apply": z.strictObject({
    lan: z.array(Port).max(100),
    internet: z.array(Port).max(100),
  }),
  "ssh.configure": z.strictObject({
    listen: z.enum(["off", "lan"]),
    passwordAuthentication: z.boolean(),
    allowUsers: z.array(Username).min(1).max(5),
  }),
  "updates.configure": z.strictObject({
    security: z.enum(["automatic", "notify"]),
    reboot: z.enum(["never", "window"]),
    rebootTime: Time,
    apps: z.enum(["automatic", "manual"]),
  }),
  "backup.configure": z.strictObject({
    target: BackupTargetSchema,
    repositoryPassword: SecretRefSchema,
    s3SecretAccessKey: SecretRefSchema.optional(),
    frequency: z.enum(["daily", "weekly"]),
    time: Time,
    retention: z.strictObject({
      daily: z.number().int(),
      weekly: z.number().int(),
      monthly: z.number().int(),
    }),
    checkMonthly: z.boolean(),
    paths: z.array(z.string().startsWith("/")).max(100),
  }),
  /** Kernel and network sysctls (no choices: the same hardening on every box). */
  "system.harden": z.strictObject({}),
  "node.install": z.strictObject({
    id: Id,
    mode: Id.optional(),
    /** Also serve it as a Tor onion service (the tor node must be installed). */
    onion: z.boolean().optional(),
  }),
  "model.pull": z.strictObject({ id: Id, quant: QuantSchema, ollama: z.string().max(200) }),
} as const;

/**
 * Operations the agent runs outside a plan: the web UI calls them directly (unlock after a reboot,
 * status for the dashboard, confirming a firewall change once the UI proved reachable). The
 * passphrase of volume.unlock comes with the request, under the secret name "disk.passphrase".
 */
export const AgentOnlyInputSchemas = {
  "volume.unlock": z.strictObject({}),
  "volume.status": z.strictObject({}),
  "firewall.confirm": z.strictObject({}),
} as const;
export type AgentOnlyOpName = keyof typeof AgentOnlyInputSchemas;

export type OpName = keyof typeof OpInputSchemas;
export const OP_NAMES = Object.keys(OpInputSchemas) as OpName[];
export type OpInput<N extends OpName> = z.infer<(typeof OpInputSchemas)[N]>;

/** A plan step on the wire and in PlanStep.op/input. */
export const PlanStepInputSchema = z.discriminatedUnion(
  "op",
  OP_NAMES.map((op) => z.strictObject({ op: z.literal(op), input: OpInputSchemas[op] })) as unknown as [
    z.ZodObject<{ op: z.ZodLiteral<OpName>; input: z.ZodType }>,
    ...z.ZodObject<{ op: z.ZodLiteral<OpName>; input: z.ZodType }>[],
  ],
);
export type PlanStepInput = { [N in OpName]: { op: N; input: OpInput<N> } }[OpName];
