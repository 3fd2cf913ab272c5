import { expect } from "vitest";
import type { TransferProgress } from "../../../app/_schemas/agent";
import type { SecretName } from "../../../app/_schemas/ops";
import type { Command } from "../../../app/agent/command";
import { type ExecOptions, type ExecResult, type Host, OpError } from "../../../app/agent/host";

/**
 * A Host for unit tests: records every argv (and which secrets stdin / fd 3 carried, by name,
 * never their values), every file write and removal, in order; answers commands from handlers
 * registered per argv prefix (the longest prefix wins, then the latest; a function handler can keep state, e.g. a
 * fake user database) and files from an in-memory map. Unknown commands succeed with no output.
 */

export type Reply =
  | Partial<ExecResult>
  | ((argv: readonly string[], options: ExecOptions) => Partial<ExecResult>);

export interface Recorded extends Command {
  removes?: string;
  /** serveSecret: the secret (by name) a one-shot socket served. */
  serves?: string;
}

export class RecordingHost implements Host {
  readonly calls: Recorded[] = [];
  readonly files = new Map<string, { content: string; mode: number }>();
  /** Paths that exist without content the ops read (device nodes, directories). */
  readonly present = new Set<string>();
  readonly messages: string[] = [];
  /** The transfer figures that came with progress messages (downloads). */
  readonly transfers: TransferProgress[] = [];
  private readonly handlers: { prefix: string[]; reply: Reply }[] = [];

  constructor(private readonly secrets: Record<string, string> = {}) {}

  on(prefix: string[], reply: Reply): this {
    this.handlers.push({ prefix, reply });
    return this;
  }

  file(path: string, content: string, mode = 0o644): this {
    this.files.set(path, { content, mode });
    return this;
  }

  /** Forgets what was recorded (the state stays): for "a second run changes nothing". */
  reset(): this {
    this.calls.length = 0;
    this.messages.length = 0;
    return this;
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const call: Recorded = { argv: [...argv] };
    if (options.stdin !== undefined) call.stdin = this.name(options.stdin);
    if (options.fd3 !== undefined) {
      const fd3 = this.name(options.fd3);
      if (!("secret" in fd3)) throw new Error("fd 3 carries one secret only");
      call.fd3 = fd3;
    }
    this.calls.push(call);
    const handler = [...this.handlers]
      .reverse() // the later of two equal prefixes wins (tests override a default)
      .filter((h) => h.prefix.every((part, i) => argv[i] === part))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0];
    const reply =
      typeof handler?.reply === "function" ? handler.reply(argv, options) : (handler?.reply ?? {});
    const result = { code: 0, stdout: "", stderr: "", ...reply };
    if (options.onStdoutLine)
      for (const line of result.stdout.split("\n")) if (line) options.onStdoutLine(line);
    if (!(options.okCodes ?? [0]).includes(result.code)) {
      throw new OpError(`${argv[0]} ${argv[1] ?? ""} failed (exit ${result.code})`);
    }
    return result;
  }

  /** Records which secret the socket serves (by name) and hands `use` a fixed path. */
  async serveSecret<T>(secret: string, use: (socketPath: string) => Promise<T>): Promise<T> {
    const served = this.name(secret);
    this.calls.push({ argv: [], serves: "secret" in served ? served.secret : "?" });
    return use(RecordingHost.SECRET_SOCKET);
  }

  static readonly SECRET_SOCKET = "/run/freehold-agent/secret.sock";

  async readFile(path: string): Promise<string | null> {
    return this.files.get(path)?.content ?? null;
  }

  async writeFile(path: string, content: string, mode: number): Promise<void> {
    this.calls.push({ argv: [], writes: { path, mode: `0${mode.toString(8)}`, content } });
    this.files.set(path, { content, mode });
  }

  async removeFile(path: string): Promise<void> {
    this.calls.push({ argv: [], removes: path });
    this.files.delete(path);
    this.present.delete(path);
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.present.has(path);
  }

  progress(message: string, transfer?: TransferProgress): void {
    this.messages.push(message);
    if (transfer) this.transfers.push(transfer);
  }

  /** The commands run, each as one string (argv joined by spaces), writes as "write PATH". */
  lines(): string[] {
    return this.calls.map((c) =>
      c.writes
        ? `write ${c.writes.path}`
        : c.removes
          ? `remove ${c.removes}`
          : c.serves
            ? `serve ${c.serves}`
            : c.argv.join(" "),
    );
  }

  /** Calls that change the machine: everything but the read-only commands named. */
  changes(readOnly: string[][]): Recorded[] {
    return this.calls.filter((c) => !readOnly.some((p) => p.every((part, i) => c.argv[i] === part)));
  }

  /** No secret value in any argv, any file written, any progress message. */
  expectNoLeaks(): void {
    const text = JSON.stringify({ calls: this.calls, messages: this.messages });
    for (const [name, value] of Object.entries(this.secrets)) {
      expect(text.includes(value), `secret ${name} leaked`).toBe(false);
    }
  }

  /** A value by the names of the secrets it carries (several: one per line), else as text. */
  private name(value: string): NonNullable<Command["stdin"]> {
    const found = Object.entries(this.secrets)
      .filter(([, secret]) => secret && value.includes(secret))
      .sort(([, a], [, b]) => value.indexOf(a) - value.indexOf(b))
      .map(([name]) => name as SecretName);
    if (found.length > 1) return { lines: found };
    return found[0] ? { secret: found[0] } : { text: value };
  }
}

/** Commands (not writes) of `preview` appear in the same order among the recorded calls. */
export function expectPreviewFollowed(preview: Command[], calls: Recorded[]): void {
  const shape = (c: Command) =>
    JSON.stringify({ argv: c.argv, stdin: c.stdin, fd3: c.fd3, path: c.writes?.path });
  const recorded = calls.filter((c) => !c.removes).map(shape);
  let at = 0;
  for (const c of preview.map(shape)) {
    const found = recorded.indexOf(c, at);
    expect(found, `preview step not run (in order): ${c}`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
}
