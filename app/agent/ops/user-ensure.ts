import { type OpInput, OpInputSchemas } from "../../_schemas/ops";
import { type Command, runs, writes } from "../command";
import { type Host, OpError } from "../host";
import { OWNER_FILE } from "../terminal";
import type { PlanAgentOp } from "./common";

/**
 * user.ensure: the owner's Unix account (SSH and the web terminal). Observes getent, id and the
 * shadow entry; creates the account, adds sudo, sets the crypt(3) hash (chpasswd on stdin) or keeps
 * it locked, and writes ~/.ssh/authorized_keys. An empty key list leaves authorized_keys as it is
 * (the owner may have added keys by hand); sudo: false never removes an existing membership.
 * Once the account verifies, the name is recorded in OWNER_FILE (root's, 0644): the web terminal's
 * shell runs as that account and no other (app/agent/terminal.ts), whatever the web app asks.
 */

type Input = OpInput<"user.ensure">;

const useradd = (name: string) => [
  "useradd",
  "--create-home",
  "--shell",
  "/bin/bash",
  "--user-group",
  "--",
  name,
];
const addSudo = (name: string) => ["usermod", "--append", "--groups", "sudo", "--", name];
const CHPASSWD = ["chpasswd", "--encrypted"];
const lock = (name: string) => ["passwd", "--lock", "--", name];
const mkSshDir = (name: string, dir: string) => [
  "install",
  "-d",
  "-m",
  "0700",
  "-o",
  name,
  "-g",
  name,
  "--",
  dir,
];
const chownSsh = (name: string, dir: string) => ["chown", "-R", "--", `${name}:${name}`, dir];

/** yescrypt, sha512crypt...: no ':' or newline, which would let a hash smuggle a second chpasswd line. */
const CRYPT_HASH = /^\$[A-Za-z0-9./$=]{1,500}$/;
/** A home directory getent may report that we are willing to write into. */
const SAFE_HOME = /^\/(?:[A-Za-z0-9_][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

interface UserState {
  exists: boolean;
  home: string | null;
  groups: string[];
  /** The shadow password field: a hash, or "!..."/"*" when locked. */
  shadow: string | null;
  authorizedKeys: string | null;
  /** OWNER_FILE's content. */
  ownerRecord: string | null;
}

async function observe(host: Host, name: string): Promise<UserState> {
  const pw = await host.run(["getent", "passwd", "--", name], { okCodes: [0, 2] });
  const ownerRecord = await host.readFile(OWNER_FILE);
  if (pw.code !== 0)
    return { exists: false, home: null, groups: [], shadow: null, authorizedKeys: null, ownerRecord };
  const home = pw.stdout.trim().split(":")[5] ?? "";
  if (!SAFE_HOME.test(home)) throw new OpError(`${name} has an unexpected home directory "${home}"`);
  const id = await host.run(["id", "-nG", "--", name]);
  const sh = await host.run(["getent", "shadow", "--", name], { okCodes: [0, 2] });
  return {
    exists: true,
    home,
    groups: id.stdout.trim().split(/\s+/),
    shadow: sh.code === 0 ? (sh.stdout.trim().split(":")[1] ?? null) : null,
    authorizedKeys: await host.readFile(`${home}/.ssh/authorized_keys`),
    ownerRecord,
  };
}

const ownerLine = (name: string) => `${name}\n`;
const OWNER_UNRECORDED = "owner not recorded";

const wantedKeys = (input: Input) =>
  input.sshAuthorizedKeys.length > 0 ? `${input.sshAuthorizedKeys.join("\n")}\n` : null;
const isLocked = (shadow: string | null) => shadow === null || shadow.startsWith("!") || shadow === "*";

function problems(input: Input, s: UserState, hash: string | undefined): string[] {
  const out: string[] = [];
  if (!s.exists) return ["account missing"];
  if (input.sudo && !s.groups.includes("sudo")) out.push("not in sudo");
  if (hash !== undefined ? s.shadow !== hash : !isLocked(s.shadow)) out.push("password differs");
  const keys = wantedKeys(input);
  if (keys !== null && s.authorizedKeys !== keys) out.push("authorized_keys differs");
  if (s.ownerRecord !== ownerLine(input.username)) out.push(OWNER_UNRECORDED);
  return out;
}

async function writeKeys(host: Host, name: string, home: string, content: string): Promise<void> {
  const dir = `${home}/.ssh`;
  // A symlinked ~/.ssh would make root write and chown wherever it points.
  const kind = await host.run(["stat", "-c", "%F", "--", dir], { okCodes: [0, 1] });
  if (kind.code === 0 && kind.stdout.trim() !== "directory") {
    throw new OpError(
      `${dir} is not a directory`,
      "Remove it (it may be a symbolic link) and run this again.",
    );
  }
  await host.run(mkSshDir(name, dir));
  await host.writeFile(`${dir}/authorized_keys`, content, 0o600);
  await host.run(chownSsh(name, dir));
}

export const userEnsure: PlanAgentOp<"user.ensure"> = {
  name: "user.ensure",
  input: OpInputSchemas["user.ensure"],
  secrets: ["owner.unixPasswordHash"],

  preview(input) {
    const home = `/home/${input.username}`;
    const keys = wantedKeys(input);
    const commands: Command[] = [runs(useradd(input.username))];
    if (input.sudo) commands.push(runs(addSudo(input.username)));
    if (input.passwordHash) commands.push(runs(CHPASSWD, { stdin: { secret: "owner.unixPasswordHash" } }));
    if (keys !== null) {
      commands.push(
        runs(mkSshDir(input.username, `${home}/.ssh`)),
        writes(`${home}/.ssh/authorized_keys`, 0o600, keys),
        runs(chownSsh(input.username, `${home}/.ssh`)),
      );
    }
    commands.push(writes(OWNER_FILE, 0o644, ownerLine(input.username)));
    return commands;
  },

  async run(input, secrets, host) {
    const name = input.username;
    const hash = input.passwordHash ? secrets[input.passwordHash.secret] : undefined;
    if (input.passwordHash && hash === undefined) throw new OpError("the password hash was not passed");
    if (hash !== undefined && !CRYPT_HASH.test(hash))
      throw new OpError("the password hash is not a crypt(3) hash");

    let state = await observe(host, name);
    const before = problems(input, state, hash);
    if (before.some((p) => p !== OWNER_UNRECORDED)) {
      const keys = wantedKeys(input);
      if (keys !== null && state.authorizedKeys !== keys) {
        // Check every key with ssh-keygen before anything is written (the schema checked the shape).
        // "-f -" reads fd 0; "/dev/stdin" cannot be opened when stdin is a socket (Node's pipes).
        for (const key of input.sshAuthorizedKeys) {
          const r = await host.run(["ssh-keygen", "-l", "-f", "-"], { stdin: `${key}\n`, okCodes: [0, 255] });
          if (r.code !== 0) throw new OpError("an SSH public key is not valid", "Import the key again.");
        }
      }
      if (!state.exists) {
        host.progress(`creating the account ${name}`);
        await host.run(useradd(name));
        state = await observe(host, name);
      }
      if (input.sudo && !state.groups.includes("sudo")) await host.run(addSudo(name));
      if (hash !== undefined && state.shadow !== hash) {
        await host.run(CHPASSWD, { stdin: `${name}:${hash}\n` });
      } else if (hash === undefined && !isLocked(state.shadow)) {
        await host.run(lock(name));
      }
      if (keys !== null && state.authorizedKeys !== keys && state.home) {
        await writeKeys(host, name, state.home, keys);
      }
    }

    let after = await observe(host, name);
    let left = problems(input, after, hash);
    // Record the owner only for an account that verified.
    if (left.length === 1 && left[0] === OWNER_UNRECORDED) {
      await host.writeFile(OWNER_FILE, ownerLine(name), 0o644);
      after = { ...after, ownerRecord: await host.readFile(OWNER_FILE) };
      left = problems(input, after, hash);
    }
    return {
      changed: before.length > 0,
      verified: left.length === 0,
      detail: {
        username: name,
        sudo: after.groups.includes("sudo"),
        password: isLocked(after.shadow) ? "locked" : "set",
        keys: input.sshAuthorizedKeys.length,
        ...(left.length > 0 ? { problems: left.join(", ") } : {}),
      },
    };
  },
};
