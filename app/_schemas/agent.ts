import { z } from "zod";
import { SecretNameSchema } from "./ops";

/**
 * The wire protocol between freehold-web and freehold-agent over /run/freehold/agent.sock:
 * newline-delimited JSON (NDJSON), one JSON object per line, UTF-8, each line at most
 * AGENT_MAX_LINE bytes (the newline excluded). Both sides parse what they receive with these
 * schemas.
 *
 * The client writes requests; a connection may carry several, one after another. For each request
 * the agent answers with 0..n progress lines carrying the request's id, then exactly one final line
 * (`ok: true` or `ok: false`). A connection the agent refuses (peer not allowed) gets one final
 * `forbidden` line with `id: null` and is closed; a line that is not a request (bad JSON, too long,
 * no usable id) is answered with `id: null` too.
 *
 * Secrets never appear in `input` (which holds SecretRefs such as `{ "secret": "disk.passphrase" }`
 * only); their values travel in `secrets`, and the agent never echoes them in an answer or a log.
 */

export const AGENT_MAX_LINE = 256 * 1024;
export const AGENT_MAX_SECRET = 4096;

const MINUTE = 60_000;
const OP_TIMEOUTS: Record<string, number> = {
  "volume.encrypt": 60 * MINUTE,
  "backup.configure": 60 * MINUTE,
  "backup.run": 24 * 60 * MINUTE,
  "backup.check": 12 * 60 * MINUTE,
  "backup.drill": 12 * 60 * MINUTE,
  "node.install": 120 * MINUTE,
  "model.pull": 360 * MINUTE,
};
/** How long the agent lets an op run before it answers "failed" (and restarts to stop it). */
export const agentOpTimeoutMs = (op: string): number => OP_TIMEOUTS[op] ?? 15 * MINUTE;

export const AgentRequestIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 of A-Z a-z 0-9 _ -");

/** An op name as the registry spells it ("volume.encrypt"); whether it exists is the agent's call. */
export const AgentOpNameSchema = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*){0,3}$/, "an op name");

export const AgentSecretsSchema = z.partialRecord(SecretNameSchema, z.string().max(AGENT_MAX_SECRET));
export type AgentSecrets = z.infer<typeof AgentSecretsSchema>;

export const AgentRequestSchema = z.strictObject({
  id: AgentRequestIdSchema,
  op: AgentOpNameSchema,
  /** Validated by the op's own input schema in the agent. */
  input: z.unknown(),
  secrets: AgentSecretsSchema.optional(),
});
export type AgentRequest = z.infer<typeof AgentRequestSchema>;

export const AGENT_PROBLEMS = [
  /** The request or its input did not pass the schema (see issues), or a secret is missing. */
  "invalid-input",
  /** The peer's uid may not use the agent. */
  "forbidden",
  /** No such operation (yet). */
  "unsupported",
  /** The agent cannot take the request now (its queue is full, or it is stopping). */
  "busy",
  /** The operation ran and failed (message and hint say why and what to try). */
  "failed",
  /** A bug or an unexpected condition in the agent itself. */
  "internal-error",
] as const;
export const AgentProblemSchema = z.enum(AGENT_PROBLEMS);
export type AgentProblem = z.infer<typeof AgentProblemSchema>;

export const AgentIssueSchema = z.strictObject({
  /** Dotted path of the field ("input.hostname", "secrets.disk.passphrase"); "" for the whole request. */
  path: z.string().max(500),
  message: z.string().max(1000),
});
export type AgentIssue = z.infer<typeof AgentIssueSchema>;

/** A download's progress (model.pull, node.install): bytes so far and what they say about the rest. */
export const TransferProgressSchema = z.strictObject({
  doneBytes: z.number().int().nonnegative(),
  /** null while the size is not known yet. */
  totalBytes: z.number().int().nonnegative().nullable(),
  /** Over the last few seconds; null until two samples are apart in time. */
  bytesPerSecond: z.number().nonnegative().nullable(),
  etaSeconds: z.number().nonnegative().nullable(),
});
export type TransferProgress = z.infer<typeof TransferProgressSchema>;

export const AgentProgressSchema = z.strictObject({
  id: AgentRequestIdSchema,
  event: z.literal("progress"),
  message: z.string().max(4000),
  transfer: TransferProgressSchema.optional(),
});
export type AgentProgress = z.infer<typeof AgentProgressSchema>;

export const AgentDetailSchema = z.record(
  z.string().max(200),
  z.union([z.string().max(4000), z.number(), z.boolean(), z.null()]),
);

export const AgentSuccessSchema = z.strictObject({
  id: AgentRequestIdSchema,
  ok: z.literal(true),
  changed: z.boolean(),
  verified: z.boolean(),
  detail: AgentDetailSchema.optional(),
  /**
   * Structured data of a read-only op (system.status, service.logs): any JSON, bounded by the line
   * limit; the web app parses it with that op's own report schema (app/_schemas/dashboard.ts).
   */
  report: z.json().optional(),
});
export type AgentSuccess = z.infer<typeof AgentSuccessSchema>;

export const AgentFailureSchema = z.strictObject({
  /** null when the line it answers carried no usable id (and for a refused connection). */
  id: AgentRequestIdSchema.nullable(),
  ok: z.literal(false),
  problem: AgentProblemSchema,
  message: z.string().max(4000),
  hint: z.string().max(4000).optional(),
  issues: z.array(AgentIssueSchema).max(50).optional(),
});
export type AgentFailure = z.infer<typeof AgentFailureSchema>;

export const AgentFinalSchema = z.discriminatedUnion("ok", [AgentSuccessSchema, AgentFailureSchema]);
export type AgentFinal = z.infer<typeof AgentFinalSchema>;

export const AgentResponseSchema = z.union([AgentProgressSchema, AgentSuccessSchema, AgentFailureSchema]);
export type AgentResponse = z.infer<typeof AgentResponseSchema>;
