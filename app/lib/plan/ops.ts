import type { z } from "zod";
import { OpInputSchemas, type OpName, type PlanStepInput, type SecretName } from "../../_schemas/ops";
import type { Command } from "../../agent/command";
import { PLAN_AGENT_OPS } from "../../agent/ops";
import { repositoryOf } from "../backup/restic";

/**
 * The closed registry of plan operations, named as the agent names them. For each op: its input
 * schema, a sentence for the owner, and the exact commands it runs on the appliance (argv arrays,
 * `--` before positionals, secrets on stdin), which the preview executor shows. For the ops the
 * agent implements, the commands are the agent op's own fresh-machine apply path (one source).
 */

export type { Command } from "../../agent/command";

export interface OpDef<N extends OpName> {
  name: N;
  input: (typeof OpInputSchemas)[N];
  describe: (input: z.infer<(typeof OpInputSchemas)[N]>) => string;
  commands: (input: z.infer<(typeof OpInputSchemas)[N]>) => Command[];
}

export const OPS: { [N in OpName]: OpDef<N> } = {
  "user.ensure": {
    name: "user.ensure",
    input: OpInputSchemas["user.ensure"],
    describe: (i) =>
      `Create the Unix account ${i.username} for SSH and the terminal${i.sudo ? " (sudo with password)" : ""}.`,
    commands: PLAN_AGENT_OPS["user.ensure"].preview,
  },
  "hostname.set": {
    name: "hostname.set",
    input: OpInputSchemas["hostname.set"],
    describe: (i) => `Name the box ${i.hostname} (reachable as ${i.hostname}.local).`,
    commands: PLAN_AGENT_OPS["hostname.set"].preview,
  },
  "volume.encrypt": {
    name: "volume.encrypt",
    input: OpInputSchemas["volume.encrypt"],
    describe: (i) =>
      `${i.erase ? "ERASE and prepare" : "Prepare"} ${i.device === "system" ? "the free space on the system disk" : i.device} ` +
      `for data at ${i.mountpoint}${i.encrypt ? ", encrypted with LUKS2 (your passphrase and the recovery key)" : ", not encrypted"}.`,
    commands: PLAN_AGENT_OPS["volume.encrypt"].preview,
  },
  "volume.tpm2": {
    name: "volume.tpm2",
    input: OpInputSchemas["volume.tpm2"],
    describe: (i) =>
      `Let this box's TPM unlock the data volume at boot (sealed to PCR ${i.pcrs.join("+")}); ` +
      "your passphrase and recovery key keep working. A disk taken out of the box stays locked; a whole stolen box does not.",
    commands: PLAN_AGENT_OPS["volume.tpm2"].preview,
  },
  "firewall.apply": {
    name: "firewall.apply",
    input: OpInputSchemas["firewall.apply"],
    describe: (i) =>
      `Firewall: the dashboard and ${i.lan.length} port(s) on the local network, ${i.internet.length} port(s) from the internet; everything else closed.`,
    commands: PLAN_AGENT_OPS["firewall.apply"].preview,
  },
  "ssh.configure": {
    name: "ssh.configure",
    input: OpInputSchemas["ssh.configure"],
    describe: (i) =>
      i.listen === "off"
        ? "Turn SSH off."
        : `SSH on the local network for ${i.allowUsers.join(", ")}${i.passwordAuthentication ? "" : ", keys only"}; root cannot log in.`,
    commands: PLAN_AGENT_OPS["ssh.configure"].preview,
  },
  "updates.configure": {
    name: "updates.configure",
    input: OpInputSchemas["updates.configure"],
    describe: (i) =>
      `Security updates ${i.security === "automatic" ? "installed automatically" : "announced on the dashboard"}` +
      `${i.reboot === "window" ? `, reboots at ${i.rebootTime} when needed` : ", no automatic reboots"}; app updates ${i.apps}.`,
    commands: PLAN_AGENT_OPS["updates.configure"].preview,
  },
  "system.harden": {
    name: "system.harden",
    input: OpInputSchemas["system.harden"],
    describe: () =>
      "Harden the kernel: hide kernel pointers and logs from users, restrict ptrace and BPF, ignore ICMP redirects and source routes.",
    commands: PLAN_AGENT_OPS["system.harden"].preview,
  },
  "backup.configure": {
    name: "backup.configure",
    input: OpInputSchemas["backup.configure"],
    describe: (i) =>
      `Encrypted backups (restic) to ${repositoryOf(i.target)}, ${i.frequency} at ${i.time}, keeping ` +
      `${i.retention.daily} daily, ${i.retention.weekly} weekly and ${i.retention.monthly} monthly snapshots` +
      `${i.checkMonthly ? "; a weekly integrity check and a monthly restore drill" : ""}.`,
    commands: PLAN_AGENT_OPS["backup.configure"].preview,
  },
  "node.install": {
    name: "node.install",
    input: OpInputSchemas["node.install"],
    describe: (i) =>
      `Install and start the ${i.id} node${i.mode ? ` (${i.mode})` : ""}${i.onion ? ", also as a Tor onion service" : ""}.`,
    commands: PLAN_AGENT_OPS["node.install"].preview,
  },
  "model.pull": {
    name: "model.pull",
    input: OpInputSchemas["model.pull"],
    describe: (i) => `Download the ${i.id} model (${i.quant}).`,
    commands: PLAN_AGENT_OPS["model.pull"].preview,
  },
};

export function describeStep(step: PlanStepInput): string {
  const def = OPS[step.op] as OpDef<OpName>;
  return def.describe(step.input as never);
}

export function commandsOf(step: PlanStepInput): Command[] {
  const def = OPS[step.op] as OpDef<OpName>;
  return def.commands(step.input as never);
}

/** The secrets a step needs, found in its input's SecretRefs. */
export function secretsOf(step: PlanStepInput): SecretName[] {
  const found = new Set<SecretName>();
  const visit = (value: unknown) => {
    if (value && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      if (typeof obj.secret === "string" && Object.keys(obj).length === 1)
        found.add(obj.secret as SecretName);
      else for (const v of Object.values(obj)) visit(v);
    }
  };
  visit(step.input);
  return [...found];
}

/** A command as one display line, quoted like a POSIX shell would need (display only, never run). */
export function displayCommand(command: Command): string {
  if (command.writes) return `write ${command.writes.path} (mode ${command.writes.mode})`;
  const quoted = command.argv.map((a) =>
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`,
  );
  const stdin = !command.stdin
    ? ""
    : "secret" in command.stdin
      ? `  < stdin: <${command.stdin.secret}>`
      : "lines" in command.stdin
        ? `  < stdin: ${command.stdin.lines.map((s) => `<${s}>`).join(" \\n ")}`
        : `  < stdin: ${JSON.stringify(command.stdin.text)}`;
  const fd3 = command.fd3 ? `  3< <${command.fd3.secret}>` : "";
  return `${quoted.join(" ")}${stdin}${fd3}`;
}
