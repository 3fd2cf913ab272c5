import path from "node:path";
import { z } from "zod";

/**
 * The process environment, validated once. "preview" runs on any developer machine and never
 * changes the host; "appliance" is the flashed box, where the agent does the privileged work.
 */
const EnvSchema = z.object({
  FREEHOLD_MODE: z.enum(["preview", "appliance"]).default("preview"),
  FREEHOLD_DB: z.string().min(1).optional(),
  FREEHOLD_MIGRATIONS_DIR: z.string().min(1).optional(),
  FREEHOLD_TLS_CERT: z.string().min(1).optional(),
  FREEHOLD_TLS_KEY: z.string().min(1).optional(),
  FREEHOLD_SETUP_CODE_FILE: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).optional(),
  HOSTNAME: z.string().min(1).optional(),
  /** Extra names the box answers to (comma-separated), besides IP literals, localhost and <hostname>.local. */
  FREEHOLD_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9.-]{1,253}$/, "host names separated by commas"))),
  /** The agent's Unix socket (appliance mode): freehold-agent.socket listens there. */
  FREEHOLD_AGENT_SOCKET: z
    .string()
    .regex(/^\/[^\0]{1,106}$/, "an absolute path of at most 107 bytes (a Unix socket path)")
    .default("/run/freehold/agent.sock"),
  /** The web terminal ends after this long without input (ms; default 15 min). */
  FREEHOLD_TERMINAL_IDLE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3600_000)
    .default(15 * 60_000),
  /** A terminal whose page went away (a reload) waits this long to be reattached (ms; default 30 s). */
  FREEHOLD_TERMINAL_REATTACH_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10 * 60_000)
    .default(30_000),
  /**
   * Nodes the owner added on this box (root-owned JSON, see app/lib/catalog/local.ts); the web app
   * and the agent both read it. Absent file: the built-in catalog only.
   */
  FREEHOLD_LOCAL_NODES: z
    .string()
    .regex(/^\/[^\0]+$/, "an absolute path")
    .default("/etc/freehold/local-nodes.json"),
  /** Preview executor pacing per step, in ms. */
  FREEHOLD_PREVIEW_STEP_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  /** Preview executor: fail the first attempt of this op (tests the retry path). */
  FREEHOLD_PREVIEW_FAIL_ONCE: z
    .string()
    .regex(/^[a-z]+\.[a-z]+$/)
    .optional(),
});

export type Env = z.infer<typeof EnvSchema> & { databaseFile: string; migrationsDir: string };

export function readEnv(source: Record<string, string | undefined> = process.env, cwd = process.cwd()): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid environment: ${problems}`);
  }
  const env = parsed.data;
  const databaseFile =
    env.FREEHOLD_DB ??
    (env.FREEHOLD_MODE === "appliance"
      ? "/var/lib/freehold/freehold.db"
      : path.join(cwd, ".cache", "preview", "freehold.db"));
  const migrationsDir = env.FREEHOLD_MIGRATIONS_DIR ?? path.join(cwd, "prisma", "migrations");
  return { ...env, databaseFile, migrationsDir };
}
