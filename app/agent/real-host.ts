import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { TransferProgress } from "../_schemas/agent";
import { type ExecOptions, type ExecResult, type Host, OpError } from "./host";
import { AGENT_RUNTIME_DIR } from "./paths";

/**
 * The Host the agent gives its operations: tools run with spawn (no shell, a fixed PATH and the C
 * locale so outputs parse the same everywhere), secrets written to stdin or fd 3 and never to argv
 * or a file; files replaced by temp file + fsync + rename + directory fsync.
 *
 * Node's "pipe" is a socketpair: tools read it fine on fd 0 / fd 3 (cryptsetup --key-file -,
 * chpasswd, ssh-keygen -f -), but one that opens /dev/stdin or /dev/fd/3 by path gets ENXIO, so
 * the ops never ask for that.
 */

const ENV: Record<string, string> = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", LANG: "C" };
const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 16 * 1024 * 1024;

export class RealHost implements Host {
  constructor(
    private readonly onProgress: (message: string, transfer?: TransferProgress) => void = () => {},
    private readonly runtimeDir = AGENT_RUNTIME_DIR,
  ) {}

  async serveSecret<T>(secret: string, use: (socketPath: string) => Promise<T>): Promise<T> {
    await fs.mkdir(this.runtimeDir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.runtimeDir, 0o700);
    const socketPath = path.join(this.runtimeDir, `secret-${randomBytes(8).toString("hex")}.sock`);
    // Every connection gets the secret, then end of file (only root can reach the directory).
    const server = net.createServer((conn) => {
      conn.on("error", () => undefined);
      conn.end(secret);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    try {
      await fs.chmod(socketPath, 0o600);
      return await use(socketPath);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(socketPath, { force: true });
    }
  }

  run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = argv;
    if (!file) return Promise.reject(new OpError("empty command"));
    const okCodes = options.okCodes ?? [0];
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        shell: false,
        env: { ...ENV, ...options.env } as NodeJS.ProcessEnv,
        // No stdin: /dev/null, so a tool that would prompt (mke2fs) reads end-of-file at once.
        stdio: [
          options.stdin !== undefined ? "pipe" : "ignore",
          "pipe",
          "pipe",
          ...(options.fd3 !== undefined ? (["pipe"] as const) : []),
        ],
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: "SIGKILL",
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer | string) => {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
        size += bytes.length;
        if (size <= MAX_OUTPUT) into.push(bytes);
      };
      child.stdout?.on("data", collect(out));
      const onLine = options.onStdoutLine;
      if (onLine) {
        let partial = "";
        child.stdout?.setEncoding("utf8");
        child.stdout?.on("data", (chunk: string) => {
          const lines = (partial + chunk).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) onLine(line);
        });
        child.stdout?.on("end", () => {
          if (partial) onLine(partial);
        });
      }
      child.stderr?.on("data", collect(err));
      // A tool that exits before reading its input closes the pipe (EPIPE): its exit code tells.
      for (const [stream, data] of [
        [child.stdin, options.stdin],
        [child.stdio[3], options.fd3],
      ] as const) {
        if (data === undefined || !stream || !("end" in stream)) continue;
        stream.on("error", () => {});
        stream.end(data);
      }
      child.on("error", (e: NodeJS.ErrnoException) =>
        reject(
          new OpError(
            e.code === "ENOENT" ? `${file} is not installed` : `${file} could not run: ${e.message}`,
          ),
        ),
      );
      child.on("close", (code, signal) => {
        const result = {
          code: code ?? -1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        };
        if (signal)
          return reject(new OpError(`${file} ${args[0] ?? ""} was stopped (${signal}); it took too long`));
        if (!okCodes.includes(result.code)) {
          const last = result.stderr.trim().split("\n").at(-1) ?? "";
          return reject(
            new OpError(`${file} ${args[0] ?? ""} failed (exit ${result.code})${last ? `: ${last}` : ""}`),
          );
        }
        resolve(result);
      });
    });
  }

  async readFile(file: string): Promise<string | null> {
    try {
      return await fs.readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
        return null;
      throw e;
    }
  }

  async writeFile(file: string, content: string, mode: number): Promise<void> {
    const dir = path.dirname(file);
    const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
    // O_EXCL | O_NOFOLLOW: never write through a link someone placed at the temp name.
    const handle = await fs.open(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
    try {
      await handle.writeFile(content, "utf8");
      await handle.chmod(mode); // the umask may have narrowed the create mode
      await handle.sync();
    } catch (e) {
      await handle.close();
      await fs.rm(tmp, { force: true });
      throw e;
    }
    await handle.close();
    try {
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    const dirHandle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }

  async removeFile(file: string): Promise<void> {
    await fs.rm(file, { force: true });
  }

  async exists(file: string): Promise<boolean> {
    try {
      await fs.access(file);
      return true;
    } catch {
      return false;
    }
  }

  progress(message: string, transfer?: TransferProgress): void {
    this.onProgress(message, transfer);
  }
}

/** The agent's host factory: one RealHost per request, reporting progress to that request. */
export function createRealHost(progress: (message: string, transfer?: TransferProgress) => void): Host {
  return new RealHost(progress);
}
