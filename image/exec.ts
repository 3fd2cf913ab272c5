/**
 * Running external tools: always an argv array through spawn (never a shell), with the command's
 * output kept for error messages and optionally appended to a build log.
 */
import { spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { ImageBuildError } from "./log";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Data written to the child's stdin (secrets go here, never in argv). */
  input?: string | Buffer;
  /** Send stdout to this file instead of capturing it. */
  stdoutFile?: string;
  /** Append stdout/stderr to this log stream. */
  log?: WriteStream | null;
  /** Exit codes that count as success (default [0]). */
  okCodes?: number[];
  hint?: string;
  /** Capture stdout as a Buffer instead of a string (large or binary output). */
  maxCapture?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const TAIL = 64 * 1024;

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error("run: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: (opts.env ?? process.env) as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = "";
    const max = opts.maxCapture ?? 64 * 1024 * 1024;
    let fileStream: WriteStream | undefined;
    if (opts.stdoutFile) {
      fileStream = createWriteStream(opts.stdoutFile);
      child.stdout.pipe(fileStream);
    } else {
      child.stdout.on("data", (d: Buffer) => {
        if (outLen < max) {
          out.push(d);
          outLen += d.length;
        }
        opts.log?.write(d);
      });
    }
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString("utf8");
      if (err.length > TAIL * 2) err = err.slice(-TAIL);
      opts.log?.write(d);
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      reject(
        new ImageBuildError(
          e.code === "ENOENT" ? `command not found: ${cmd}` : `cannot run ${cmd}: ${e.message}`,
          opts.hint ?? "run scripts/bootstrap to install the image build prerequisites",
        ),
      );
    });
    child.stdin.on("error", () => {
      /* child may exit before reading all input */
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    child.on("close", (code, signal) => {
      const finish = () => {
        const stdout = Buffer.concat(out).toString("utf8");
        const c = code ?? 128;
        if ((opts.okCodes ?? [0]).includes(c) && !signal) {
          resolve({ code: c, stdout, stderr: err });
        } else {
          const tail = err.trim().split("\n").slice(-15).join("\n");
          reject(
            new ImageBuildError(
              `${argv.slice(0, 6).join(" ")}${argv.length > 6 ? " …" : ""} failed (${signal ?? `exit ${c}`})${tail ? `:\n${tail}` : ""}`,
              opts.hint,
            ),
          );
        }
      };
      if (fileStream) fileStream.close(finish);
      else finish();
    });
  });
}

/** Run and return trimmed stdout. */
export async function capture(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run(argv, opts)).stdout.trim();
}

/** True if the command runs and exits 0. */
export async function succeeds(argv: readonly string[], opts: RunOptions = {}): Promise<boolean> {
  try {
    await run(argv, opts);
    return true;
  } catch {
    return false;
  }
}
