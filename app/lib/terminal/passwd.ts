/**
 * The owner's account as /etc/passwd describes it, and the one command the web terminal runs for
 * it: that account's login shell as a login shell, with a minimal environment. Pure functions, so
 * the refusals are unit tested; the agent and the preview server both launch through them.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

const NAME = /^[a-z_][a-z0-9_-]{0,31}\$?$/;
const ABSOLUTE = /^\/[^\0:\n]*$/;

/** Parses passwd(5) text; malformed lines (and NIS "+" lines) are skipped, never guessed at. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length !== 7) continue;
    const [name = "", , uid = "", gid = "", gecos = "", home = "", shell = ""] = f;
    if (!NAME.test(name) || !/^\d{1,10}$/.test(uid) || !/^\d{1,10}$/.test(gid)) continue;
    out.push({ name, uid: Number(uid), gid: Number(gid), gecos, home, shell });
  }
  return out;
}

/** The first entry for a name (as getpwnam(3) would return with files only). */
export function findUser(entries: readonly PasswdEntry[], name: string): PasswdEntry | null {
  return entries.find((e) => e.name === name) ?? null;
}

export function findUid(entries: readonly PasswdEntry[], uid: number): PasswdEntry | null {
  return entries.find((e) => e.uid === uid) ?? null;
}

/** Login shells listed in /etc/shells (comments and blank lines skipped). */
export function parseShells(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("/"));
}

/** Debian's first uid for people (adduser's FIRST_UID), and nobody's. */
export const FIRST_HUMAN_UID = 1000;
export const NOBODY_UID = 65534;

/**
 * Why this account may not get a terminal from root, or null when it may: never root or a system
 * account, never a group-0 account, a home and a shell that are real paths, a shell from /etc/shells.
 */
export function accountProblem(entry: PasswdEntry, shells: readonly string[] | null): string | null {
  if (entry.uid === 0) return `${entry.name} has uid 0: the terminal never opens as root`;
  if (entry.uid < FIRST_HUMAN_UID)
    return `${entry.name} has uid ${entry.uid}, a system account (below ${FIRST_HUMAN_UID})`;
  if (entry.uid === NOBODY_UID || entry.uid >= 4294967294) return `${entry.name} is the nobody account`;
  if (entry.gid === 0) return `${entry.name}'s primary group is root`;
  if (!ABSOLUTE.test(entry.home) || entry.home.split("/").includes(".."))
    return `${entry.name} has no usable home directory`;
  if (!ABSOLUTE.test(entry.shell)) return `${entry.name} has no login shell`;
  if (/\/(nologin|false)$/.test(entry.shell)) return `${entry.name}'s shell ${entry.shell} refuses logins`;
  if (shells !== null && !shells.includes(entry.shell))
    return `${entry.name}'s shell ${entry.shell} is not listed in /etc/shells`;
  return null;
}

/** What runs in the pty: argv (no shell string anywhere), environment and working directory. */
export interface ShellLaunch {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  user: string;
}

/** Debian's default PATH for people (login.defs ENV_PATH). */
export const USER_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/games";
export const SETPRIV = "/usr/bin/setpriv";

/**
 * The account's login shell, run as a login shell ("-l": bash, dash, zsh and fish all take it),
 * in its home, with only HOME, USER, LOGNAME, SHELL, PATH, TERM and LANG set.
 *
 * `asRoot`: the caller is root (freehold-agent) and must become the account first. setpriv
 * (util-linux) sets the real and effective uid and gid and the account's supplementary groups
 * (initgroups), so root's own groups do not leak into the shell; node-pty's uid/gid options would
 * keep them. No no_new_privs: sudo must still work (it asks for the account's password).
 */
export function loginShellLaunch(entry: PasswdEntry, options: { asRoot: boolean }): ShellLaunch {
  const env: Record<string, string> = {
    HOME: entry.home,
    USER: entry.name,
    LOGNAME: entry.name,
    SHELL: entry.shell,
    PATH: entry.uid === 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : USER_PATH,
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
  };
  if (!options.asRoot) return { file: entry.shell, args: ["-l"], env, cwd: entry.home, user: entry.name };
  return {
    file: SETPRIV,
    args: [
      "--reuid",
      String(entry.uid),
      "--regid",
      String(entry.gid),
      "--init-groups",
      "--",
      entry.shell,
      "-l",
    ],
    env,
    cwd: entry.home,
    user: entry.name,
  };
}
