import { readFile } from "node:fs/promises";
import type { TerminalSize } from "../../_schemas/terminal";
import { findUid, loginShellLaunch, parsePasswd, type ShellLaunch } from "./passwd";

/**
 * One small interface in front of every pseudo-terminal the web terminal uses. Two hosts implement
 * it: `localPtyHost` (preview and development: node-pty in freehold-web, as the user running it) and
 * `agentPtyHost` (the appliance: freehold-agent runs the owner's shell and streams it over its
 * socket, app/lib/terminal/agent-pty.ts). The gateway (gateway.ts) sees only this.
 */

export interface PtyExit {
  code: number | null;
  signal: number | null;
}

export interface PtyProcess {
  readonly pid: number;
  /** The account the shell runs as. */
  readonly user: string;
  write(data: string): void;
  resize(size: TerminalSize): void;
  /** Ends the shell (SIGHUP, as a terminal hang-up does); onExit follows. */
  kill(): void;
  /** Flow control: stop reading output until resume(). */
  pause(): void;
  resume(): void;
  onData(listener: (data: string) => void): void;
  onExit(listener: (exit: PtyExit) => void): void;
}

export interface PtyHost {
  /** Starts the owner's login shell; rejects with a message the owner may read. */
  open(size: TerminalSize): Promise<PtyProcess>;
}

/** The part of node-pty we use (its own typings would tie every importer to the native addon). */
interface NodePtyModule {
  spawn(
    file: string,
    args: string[],
    options: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string> },
  ): {
    pid: number;
    write(data: string): void;
    resize(cols: number, rows: number): void;
    kill(signal?: string): void;
    pause(): void;
    resume(): void;
    onData(listener: (data: string) => void): { dispose(): void };
    onExit(listener: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  };
}

let nodePty: Promise<NodePtyModule> | null = null;

/**
 * node-pty, loaded on first use (a missing or broken addon then fails the terminal, not the server).
 * It is external to every bundle: /opt/freehold/node_modules/node-pty on the appliance.
 */
export function loadNodePty(): Promise<NodePtyModule> {
  nodePty ??= import("node-pty").then((m) => {
    const mod = ((m as { default?: unknown }).default ?? m) as NodePtyModule;
    if (typeof mod.spawn !== "function") throw new Error("node-pty has no spawn()");
    return mod;
  });
  nodePty.catch(() => {
    nodePty = null;
  });
  return nodePty;
}

/** Runs a ShellLaunch in a new pty with node-pty. */
export async function spawnPty(launch: ShellLaunch, size: TerminalSize): Promise<PtyProcess> {
  const pty = await loadNodePty();
  const p = pty.spawn(launch.file, launch.args, {
    name: launch.env.TERM ?? "xterm-256color",
    cols: size.cols,
    rows: size.rows,
    cwd: launch.cwd,
    env: launch.env,
  });
  let exited = false;
  p.onExit(() => {
    exited = true;
  });
  return {
    pid: p.pid,
    user: launch.user,
    write: (data) => {
      if (!exited) p.write(data);
    },
    resize: ({ cols, rows }) => {
      if (!exited) p.resize(cols, rows);
    },
    kill: () => {
      if (exited) return;
      try {
        p.kill("SIGHUP");
      } catch {
        // already gone
      }
    },
    pause: () => p.pause(),
    resume: () => p.resume(),
    onData: (listener) => {
      p.onData(listener);
    },
    onExit: (listener) => {
      p.onExit((e) => listener({ code: e.signal ? null : e.exitCode, signal: e.signal || null }));
    },
  };
}

/**
 * Preview and development: the login shell of the user running freehold-web, in a pty of its own.
 * Nothing changes users here (nothing can: the process has no privileges to give away).
 */
export function localPtyHost(options: { passwdFile?: string; uid?: number } = {}): PtyHost {
  return {
    async open(size) {
      const uid = options.uid ?? process.getuid?.() ?? -1;
      const entries = parsePasswd(
        await readFile(/* turbopackIgnore: true */ options.passwdFile ?? "/etc/passwd", "utf8"),
      );
      const me = findUid(entries, uid);
      if (!me) throw new Error(`uid ${uid} is not in /etc/passwd`);
      const shell = me.shell && !/\/(nologin|false)$/.test(me.shell) ? me.shell : "/bin/sh";
      return spawnPty(loginShellLaunch({ ...me, shell }, { asRoot: false }), size);
    },
  };
}
