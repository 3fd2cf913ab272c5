import { constants, promises as fs } from "node:fs";
import type { AgentProblem } from "../_schemas/agent";
import type { TerminalSize } from "../_schemas/terminal";
import {
  accountProblem,
  findUser,
  loginShellLaunch,
  parsePasswd,
  parseShells,
  type ShellLaunch,
} from "../lib/terminal/passwd";
import { type PtyProcess, spawnPty } from "../lib/terminal/pty";
import { AGENT_STATE_DIR } from "./paths";

/**
 * freehold-agent's side of the web terminal: the owner's login shell in a pty, as the owner.
 *
 * Who "the owner" is comes from the agent's own record, never from the request: user.ensure writes
 * the account name to OWNER_FILE after it verified the account. The agent trusts that file only if
 * root wrote it (owned by root, a regular file with one link, not writable by group or others):
 * /var/lib/freehold belongs to the web app's user, which could otherwise put a file of its own
 * there. The account must then exist in /etc/passwd with a uid of at least 1000 (never root, never
 * a system account) and a shell from /etc/shells. Nothing else can be asked for: no user, no
 * command, no environment; only the window size.
 */

export const OWNER_FILE = `${AGENT_STATE_DIR}/owner`;
const OWNER_NAME = /^[a-z][a-z0-9_-]{1,30}$/;

export type OwnerRecord = { ok: true; name: string } | { ok: false; missing: boolean; message: string };

/** Reads OWNER_FILE with the checks above. */
export async function readOwnerRecord(file = OWNER_FILE): Promise<OwnerRecord> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(/* turbopackIgnore: true */ file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: false, missing: true, message: "no owner account is recorded yet" };
    return { ok: false, missing: false, message: `${file} cannot be read (${code})` };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.nlink !== 1 || st.uid !== 0 || (st.mode & 0o022) !== 0) {
      return {
        ok: false,
        missing: false,
        message: `${file} was not written by freehold-agent (it must be root's, 0644, one link)`,
      };
    }
    const text = (await handle.readFile("utf8")).replace(/\n$/, "");
    if (!OWNER_NAME.test(text))
      return { ok: false, missing: false, message: `${file} does not hold a user name` };
    return { ok: true, name: text };
  } finally {
    await handle.close();
  }
}

export interface AgentTerminalDeps {
  readOwner(): Promise<OwnerRecord>;
  readPasswd(): Promise<string>;
  /** /etc/shells, or null when it cannot be read (then only nologin/false are refused). */
  readShells(): Promise<string | null>;
  spawn(launch: ShellLaunch, size: TerminalSize): Promise<PtyProcess>;
}

export type TerminalOpenResult =
  | { ok: true; pty: PtyProcess; launch: ShellLaunch }
  | { ok: false; problem: AgentProblem; message: string; hint?: string };

export type OpenTerminal = (size: TerminalSize) => Promise<TerminalOpenResult>;

export function createAgentTerminal(deps: AgentTerminalDeps): OpenTerminal {
  return async (size) => {
    const owner = await deps.readOwner();
    if (!owner.ok) {
      return {
        ok: false,
        problem: owner.missing ? "failed" : "forbidden",
        message: owner.message,
        hint: owner.missing
          ? "finish the setup plan first: its user.ensure step records the owner"
          : undefined,
      };
    }
    const entry = findUser(parsePasswd(await deps.readPasswd()), owner.name);
    if (!entry) {
      return { ok: false, problem: "failed", message: `the owner account ${owner.name} does not exist` };
    }
    const shellsText = await deps.readShells();
    const problem = accountProblem(entry, shellsText === null ? null : parseShells(shellsText));
    if (problem) return { ok: false, problem: "forbidden", message: problem };
    const launch = loginShellLaunch(entry, { asRoot: true });
    try {
      return { ok: true, pty: await deps.spawn(launch, size), launch };
    } catch (error) {
      return {
        ok: false,
        problem: "failed",
        message: `the shell could not start: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  };
}

/** The real dependencies: the files on this machine and node-pty. */
export function realTerminalDeps(): AgentTerminalDeps {
  return {
    readOwner: () => readOwnerRecord(),
    readPasswd: () => fs.readFile("/etc/passwd", "utf8"),
    readShells: () => fs.readFile("/etc/shells", "utf8").catch(() => null),
    spawn: spawnPty,
  };
}
