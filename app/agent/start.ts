import { execFile } from "node:child_process";
import { lstat, unlink } from "node:fs/promises";
import type { AgentOp } from "./host";
import { type AgentServer, createAgentServer, type HostFactory } from "./server";
import type { OpenTerminal } from "./terminal";

/**
 * Starting freehold-agent: where it listens, whom it serves, how it stops. main.ts calls this with
 * the real registry and host; tests call it with stand-ins.
 *
 * Listening: under systemd (freehold-agent.socket) the listening socket arrives as fd 3 with
 * LISTEN_PID = our pid and LISTEN_FDS = 1 (sd_listen_fds(3)); the variables are then removed from
 * the environment so the tools the ops run do not inherit them. `--socket PATH` listens on a path
 * instead (development and tests; a stale socket file there is replaced).
 *
 * Whom: root and the `freehold` user (the web app), from `getent passwd freehold`; `--allow-uid N`
 * adds one (tests). Only root starts the agent, so the flag grants nothing new.
 */

export interface AgentDeps {
  ops: Readonly<Record<string, AgentOp>>;
  host: HostFactory;
  /** The web terminal (the owner's login shell); absent in agents built without it. */
  openTerminal?: OpenTerminal;
}

export interface StartOptions {
  argv?: readonly string[];
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Exit on SIGTERM/SIGINT and when an op is stuck (false in tests). */
  manageProcess?: boolean;
}

export type ListenTarget = { fd: number } | { path: string };

export class AgentStartError extends Error {
  override name = "AgentStartError";
}

export function parseArgs(argv: readonly string[]): { socket?: string; allowUids: number[] } {
  const out: { socket?: string; allowUids: number[] } = { allowUids: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--socket" && value) {
      out.socket = value;
      i++;
    } else if (arg === "--allow-uid" && value && /^\d{1,10}$/.test(value)) {
      out.allowUids.push(Number(value));
      i++;
    } else {
      throw new AgentStartError(
        `unknown argument ${JSON.stringify(arg)} (usage: [--socket PATH] [--allow-uid N]...)`,
      );
    }
  }
  return out;
}

/** fd 3 when systemd passed exactly one socket to this process; else null. */
export function systemdSocket(
  env: Record<string, string | undefined>,
  pid = process.pid,
): { fd: number } | null {
  if (env.LISTEN_PID !== String(pid)) return null;
  if (env.LISTEN_FDS !== "1") {
    throw new AgentStartError(
      `systemd passed ${env.LISTEN_FDS ?? "no"} sockets; freehold-agent.socket must listen on exactly one`,
    );
  }
  return { fd: 3 };
}

/** The uid of a user from `getent passwd NAME`; null when there is no such user. */
export function userUid(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile("getent", ["passwd", "--", name], { encoding: "utf8", timeout: 5000 }, (error, stdout) => {
      const uid = error ? undefined : stdout.split("\n")[0]?.split(":")[2];
      resolve(uid && /^\d+$/.test(uid) ? Number(uid) : null);
    });
  });
}

export async function startAgent(deps: AgentDeps, options: StartOptions = {}): Promise<AgentServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const manage = options.manageProcess ?? true;
  const args = parseArgs(options.argv ?? process.argv.slice(2));

  let target: ListenTarget;
  if (args.socket) target = { path: args.socket };
  else {
    const fd = systemdSocket(env);
    if (!fd) {
      throw new AgentStartError(
        "no socket to listen on: start freehold-agent through freehold-agent.socket, or pass --socket PATH",
      );
    }
    target = fd;
  }
  for (const v of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) delete env[v];

  const freehold = await userUid("freehold");
  const allowedUids = [0, ...(freehold === null ? [] : [freehold]), ...args.allowUids];
  if (freehold === null)
    log(
      JSON.stringify({
        agent: "freehold-agent",
        event: "warning",
        message: "no user freehold: only root may connect",
      }),
    );

  const server = createAgentServer({
    ...deps,
    allowedUids,
    log,
    onStuck: manage
      ? (op) => {
          log(
            JSON.stringify({
              agent: "freehold-agent",
              event: "stuck",
              op,
              message: "exiting so systemd stops the op",
            }),
          );
          setTimeout(() => process.exit(1), 500).unref();
        }
      : undefined,
  });

  if ("path" in target) {
    const stale = await lstat(target.path).catch(() => null);
    if (stale?.isSocket()) await unlink(target.path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen("path" in target ? { path: target.path } : { fd: target.fd }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) =>
    log(JSON.stringify({ agent: "freehold-agent", event: "error", message: error.message })),
  );
  log(
    JSON.stringify({
      agent: "freehold-agent",
      event: "listening",
      on: "path" in target ? target.path : `fd ${target.fd} (systemd)`,
      allowedUids,
      ops: Object.keys(deps.ops).sort(),
    }),
  );

  if (manage) {
    const stop = (signal: string) => {
      log(JSON.stringify({ agent: "freehold-agent", event: "stopping", signal }));
      void server.stop().then(() => process.exit(0));
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  }
  return server;
}
