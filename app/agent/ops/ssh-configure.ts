import { type OpInput, OpInputSchemas } from "../../_schemas/ops";
import { type Command, runs, writes } from "../command";
import { type Host, OpError } from "../host";
import { type PlanAgentOp, unitIs } from "./common";

/**
 * ssh.configure: a hardened sshd drop-in (sshd keeps the first value it reads, and 50-freehold
 * sorts before the image's freehold.conf and after nothing of ours, so it wins), checked with
 * `sshd -t` before sshd is reloaded (the old drop-in comes back if the check fails). "off" keeps
 * the drop-in (in case SSH is turned on by hand) and stops and disables ssh.service.
 */

type Input = OpInput<"ssh.configure">;

export const DROP_IN = "/etc/ssh/sshd_config.d/50-freehold.conf";
const UNIT = "ssh.service";
const TEST = ["sshd", "-t"];
const DUMP = ["sshd", "-T"];
const MK_PRIVSEP = ["mkdir", "-p", "-m", "0755", "--", "/run/sshd"];
const RELOAD = ["systemctl", "reload", "--", UNIT];
const ENABLE_NOW = ["systemctl", "enable", "--now", "--", UNIT];
const DISABLE_NOW = ["systemctl", "disable", "--now", "--", UNIT];

export function renderSshd(input: Input): string {
  return [
    "# Freehold SSH hardening, written by freehold-agent (ssh.configure); edits are overwritten.",
    "PermitRootLogin no",
    `PasswordAuthentication ${input.passwordAuthentication ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    "PermitEmptyPasswords no",
    `AllowUsers ${input.allowUsers.join(" ")}`,
    "KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org",
    "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
    "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
    // Ed25519 only: the RSA key Debian makes is 3072 bits, under what hardened policies ask (4096).
    "HostKeyAlgorithms ssh-ed25519,ssh-ed25519-cert-v01@openssh.com",
    "MaxAuthTries 3",
    "MaxSessions 2",
    "LoginGraceTime 30",
    "X11Forwarding no",
    "AllowAgentForwarding no",
    // The box's services are reached through the firewall as planned, not tunnelled past it.
    "AllowTcpForwarding no",
    "Compression no",
    // Dead sessions end after 10 min of unanswered probes (inside the encrypted channel, unlike TCPKeepAlive).
    "ClientAliveInterval 300",
    "ClientAliveCountMax 2",
    "TCPKeepAlive no",
    // The key fingerprint of each login in the journal.
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

/** `sshd -T` lines (lower-case keyword, value) that must read as this input asks. */
export function expectedEffective(input: Input): Record<string, string> {
  return {
    permitrootlogin: "no",
    passwordauthentication: input.passwordAuthentication ? "yes" : "no",
    kbdinteractiveauthentication: "no",
    allowusers: input.allowUsers.join(" "),
    maxauthtries: "3",
    maxsessions: "2",
    allowtcpforwarding: "no",
    loglevel: "VERBOSE",
    hostkeyalgorithms: "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com",
    x11forwarding: "no",
    allowagentforwarding: "no",
  };
}

/** What `sshd -T` (output or text) shows that differs from the input; empty when as wanted. */
export function effectiveProblems(dump: string, input: Input): string[] {
  const seen = new Map<string, string[]>();
  for (const line of dump.split("\n")) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key) seen.set(key, [...(seen.get(key) ?? []), rest.join(" ")]);
  }
  return Object.entries(expectedEffective(input))
    .filter(([key, want]) => (seen.get(key) ?? []).join(" ") !== want)
    .map(([key]) => key);
}

async function effective(host: Host, input: Input): Promise<string[]> {
  if (!(await host.exists("/run/sshd"))) await host.run(MK_PRIVSEP);
  const r = await host.run(DUMP, { okCodes: [0, 255] });
  return r.code === 0 ? effectiveProblems(r.stdout, input) : ["sshd -T failed"];
}

export const sshConfigure: PlanAgentOp<"ssh.configure"> = {
  name: "ssh.configure",
  input: OpInputSchemas["ssh.configure"],
  secrets: [],

  preview(input) {
    const commands: Command[] = [writes(DROP_IN, 0o644, renderSshd(input)), runs(TEST)];
    commands.push(runs(input.listen === "off" ? DISABLE_NOW : RELOAD));
    return commands;
  },

  async run(input, _secrets, host) {
    const content = renderSshd(input);
    const previous = await host.readFile(DROP_IN);
    const wantOn = input.listen === "lan";
    const active = await unitIs(host, "is-active", [UNIT]);
    const enabled = await unitIs(host, "is-enabled", [UNIT]);
    let changed = false;

    if (previous !== content) {
      await host.writeFile(DROP_IN, content, 0o644);
      if (!(await host.exists("/run/sshd"))) await host.run(MK_PRIVSEP);
      const test = await host.run(TEST, { okCodes: [0, 255] });
      if (test.code !== 0) {
        if (previous === null) await host.removeFile(DROP_IN);
        else await host.writeFile(DROP_IN, previous, 0o644);
        throw new OpError(
          `sshd -t rejects the configuration: ${test.stderr.trim().split("\n").at(-1) ?? ""}`,
        );
      }
      if (wantOn && active) await host.run(RELOAD);
      changed = true;
    }
    if (wantOn && !(active && enabled)) {
      await host.run(ENABLE_NOW);
      changed = true;
    } else if (!wantOn && (active || enabled)) {
      await host.run(DISABLE_NOW);
      changed = true;
    }

    const problems = await effective(host, input);
    const nowActive = await unitIs(host, "is-active", [UNIT]);
    if (nowActive !== wantOn) problems.push(wantOn ? "ssh.service not running" : "ssh.service still running");
    return {
      changed,
      verified: problems.length === 0 && (await host.readFile(DROP_IN)) === content,
      detail: {
        listen: input.listen,
        passwordAuthentication: input.passwordAuthentication,
        running: nowActive,
        ...(problems.length > 0 ? { problems: problems.join(", ") } : {}),
      },
    };
  },
};
