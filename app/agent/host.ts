import type { z } from "zod";
import type { TransferProgress } from "../_schemas/agent";
import type { SecretName } from "../_schemas/ops";

/**
 * What an agent operation may do to the machine, and nothing else: run a tool as an argv array
 * (never a shell; secrets on stdin or fd 3), read and atomically write files, and report progress.
 * The agent gives operations the real host (execFile); unit tests give them a recording host that
 * asserts the exact argv and serves canned observations.
 */

export interface ExecOptions {
  /** Written to the tool's stdin (secrets go here, never into argv). */
  stdin?: string;
  /** A second secret on an inherited pipe, file descriptor 3 (for tools that read fd 3 directly). */
  fd3?: string;
  /** Exit codes that are answers, not failures (e.g. 1 from `cryptsetup isLuks`). Default [0]. */
  okCodes?: number[];
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Called with each complete line of stdout as it arrives (progress of long tools: restic --json). */
  onStdoutLine?: (line: string) => void;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Host {
  /** Runs argv[0] with argv[1..]; rejects with an OpError naming the tool when the exit code is not ok. */
  run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** null when the file does not exist. */
  readFile(path: string): Promise<string | null>;
  /** Temp file in the same directory, fsync, rename: a power cut leaves the old or the new file. */
  writeFile(path: string, content: string, mode: number): Promise<void>;
  removeFile(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /**
   * For tools that read a secret only from a file path (systemd-cryptenroll --unlock-key-file):
   * serves `secret` on a one-shot AF_UNIX socket in a root-only runtime directory while `use`
   * runs, then removes it. systemd's tools connect to a socket given as a key file and read it to
   * the end; stdin cannot serve here, as Node's child stdin is a socket that has no path to connect.
   */
  serveSecret<T>(secret: string, use: (socketPath: string) => Promise<T>): Promise<T>;
  /** A line for the requester; downloads add their bytes done/total, rate and ETA. */
  progress(message: string, transfer?: TransferProgress): void;
}

export interface OpOutcome {
  /** Something on the machine was changed by this run (false: it was already as wanted). */
  changed: boolean;
  /** The desired state was observed after acting. The plan engine only marks verified steps done. */
  verified: boolean;
  /** What verify saw, for the step log and the dashboard (never secrets). */
  detail?: Record<string, string | number | boolean | null>;
  /** Structured data of a read-only op (JSON), checked on the web side by the op's report schema. */
  report?: unknown;
}

/** An operation: observe first, act only when needed, then verify. */
export interface AgentOp<S extends z.ZodType = z.ZodType> {
  name: string;
  input: S;
  /** Secrets the op needs from the request (passed on to tools on stdin). */
  secrets: readonly SecretName[];
  /**
   * Observes only, never changes the machine: runs at once beside the queue, so the dashboard's
   * status stays live while a long op (a node install, a model download) holds the queue.
   */
  readOnly?: boolean;
  run(input: z.infer<S>, secrets: Partial<Record<SecretName, string>>, host: Host): Promise<OpOutcome>;
}

/** A failure with the cause and the next thing to try, sent to the web app as is. */
export class OpError extends Error {
  override name = "OpError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
