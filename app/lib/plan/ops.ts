import type { z } from "zod";
import { OpInputSchemas, type OpName, type PlanStepInput, type SecretName } from "../../_schemas/ops";

/**
 * The closed registry of plan operations, named as the agent will name them. For each op: its
 * input schema, a sentence for the owner, and the exact commands it runs on the appliance (argv
 * arrays, `--` before positionals, secrets on stdin), which the preview executor shows and the
 * agent issue implements as observe → apply → verify.
 */

export interface Command {
  argv: string[];
  /** What goes to the command's stdin: the name of a plan secret (never its value) or literal text. */
  stdin?: { secret: SecretName } | { text: string };
  /** A second secret on an inherited pipe (file descriptor 3), for tools that need two keys. */
  fd3?: { secret: SecretName };
  /** A file the op writes (temp file + rename) instead of running something. */
  writes?: { path: string; mode: string; content: string };
}

export interface OpDef<N extends OpName> {
  name: N;
  input: (typeof OpInputSchemas)[N];
  describe: (input: z.infer<(typeof OpInputSchemas)[N]>) => string;
  commands: (input: z.infer<(typeof OpInputSchemas)[N]>) => Command[];
}

const DATA_MAPPER = "freehold-data";
const dataDevice = (device: string) =>
  device === "system" ? "/dev/disk/by-partlabel/freehold-data" : device;

export const OPS: { [N in OpName]: OpDef<N> } = {
  "user.ensure": {
    name: "user.ensure",
    input: OpInputSchemas["user.ensure"],
    describe: (i) =>
      `Create the Unix account ${i.username} for SSH and the terminal${i.sudo ? " (sudo with password)" : ""}.`,
    commands: (i) => [
      { argv: ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", "--", i.username] },
      ...(i.sudo ? [{ argv: ["usermod", "--append", "--groups", "sudo", "--", i.username] }] : []),
      ...(i.passwordHash
        ? [{ argv: ["chpasswd", "--encrypted"], stdin: { secret: "owner.unixPasswordHash" as const } }]
        : [{ argv: ["passwd", "--lock", "--", i.username] }]),
      {
        argv: [],
        writes: {
          path: `/home/${i.username}/.ssh/authorized_keys`,
          mode: "0600",
          content: i.sshAuthorizedKeys.length > 0 ? i.sshAuthorizedKeys.join("\n") : "(empty)",
        },
      },
    ],
  },
  "hostname.set": {
    name: "hostname.set",
    input: OpInputSchemas["hostname.set"],
    describe: (i) => `Name the box ${i.hostname} (reachable as ${i.hostname}.local).`,
    commands: (i) => [
      { argv: ["hostnamectl", "set-hostname", "--", i.hostname] },
      { argv: ["systemctl", "restart", "avahi-daemon.service"] },
    ],
  },
  "volume.encrypt": {
    name: "volume.encrypt",
    input: OpInputSchemas["volume.encrypt"],
    describe: (i) =>
      `${i.erase ? "ERASE and prepare" : "Prepare"} ${i.device === "system" ? "the free space on the system disk" : i.device} ` +
      `for data at ${i.mountpoint}${i.encrypt ? ", encrypted with LUKS2 (your passphrase and the recovery key)" : ", not encrypted"}.`,
    commands: (i) => {
      const device = dataDevice(i.device);
      const commands: Command[] = [];
      if (i.erase) commands.push({ argv: ["wipefs", "--all", "--", device] });
      if (i.device !== "system") {
        commands.push({
          argv: ["sfdisk", "--label", "gpt", "--", device],
          stdin: { text: "type=linux, name=freehold-data" },
        });
      }
      const part = i.device === "system" ? device : "/dev/disk/by-partlabel/freehold-data";
      let fsDevice = part;
      if (i.encrypt) {
        commands.push(
          {
            argv: [
              "cryptsetup",
              "luksFormat",
              "--type",
              "luks2",
              "--batch-mode",
              "--key-file",
              "-",
              "--",
              part,
            ],
            stdin: { secret: "disk.passphrase" },
          },
          {
            argv: ["cryptsetup", "luksAddKey", "--key-file", "-", "--new-keyfile", "/dev/fd/3", "--", part],
            stdin: { secret: "disk.passphrase" },
            fd3: { secret: "disk.recoveryKey" },
          },
          {
            argv: ["cryptsetup", "open", "--type", "luks2", "--key-file", "-", "--", part, DATA_MAPPER],
            stdin: { secret: "disk.passphrase" },
          },
        );
        fsDevice = `/dev/mapper/${DATA_MAPPER}`;
      }
      commands.push(
        { argv: ["mkfs.ext4", "-L", DATA_MAPPER, "--", fsDevice] },
        {
          argv: [],
          writes: {
            path: "/etc/systemd/system/srv-freehold.mount",
            mode: "0644",
            content: `[Mount]\nWhat=${fsDevice}\nWhere=${i.mountpoint}\nType=ext4\nOptions=noatime,nodev,nosuid`,
          },
        },
        { argv: ["systemctl", "daemon-reload"] },
        { argv: ["systemctl", "enable", "--now", "srv-freehold.mount"] },
      );
      return commands;
    },
  },
  "firewall.apply": {
    name: "firewall.apply",
    input: OpInputSchemas["firewall.apply"],
    describe: (i) =>
      `Firewall: the dashboard and ${i.lan.length} port(s) on the local network, ${i.internet.length} port(s) from the internet; everything else closed.`,
    commands: (i) => {
      const rule = (p: { port: number; protocol: string }, lanOnly: boolean) =>
        `    ${lanOnly ? "ip saddr @lan " : ""}${p.protocol} dport ${p.port} accept`;
      const content = [
        "table inet freehold {",
        "  set lan { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } }",
        "  chain input {",
        "    type filter hook input priority 0; policy drop;",
        "    ct state established,related accept",
        '    iifname "lo" accept',
        "    ip saddr @lan tcp dport 443 accept",
        "    ip saddr @lan udp dport 5353 accept",
        ...i.lan.map((p) => rule(p, true)),
        ...i.internet.map((p) => rule(p, false)),
        "  }",
        "}",
      ].join("\n");
      return [
        { argv: [], writes: { path: "/etc/nftables.d/freehold.nft", mode: "0644", content } },
        { argv: ["nft", "--check", "--file", "/etc/nftables.d/freehold.nft"] },
        { argv: ["nft", "--file", "/etc/nftables.d/freehold.nft"] },
        { argv: ["systemctl", "enable", "nftables.service"] },
      ];
    },
  },
  "ssh.configure": {
    name: "ssh.configure",
    input: OpInputSchemas["ssh.configure"],
    describe: (i) =>
      i.listen === "off"
        ? "Turn SSH off."
        : `SSH on the local network for ${i.allowUsers.join(", ")}${i.passwordAuthentication ? "" : ", keys only"}; root cannot log in.`,
    commands: (i) =>
      i.listen === "off"
        ? [{ argv: ["systemctl", "disable", "--now", "ssh.service"] }]
        : [
            {
              argv: [],
              writes: {
                path: "/etc/ssh/sshd_config.d/50-freehold.conf",
                mode: "0644",
                content: [
                  "PermitRootLogin no",
                  `PasswordAuthentication ${i.passwordAuthentication ? "yes" : "no"}`,
                  "KbdInteractiveAuthentication no",
                  `AllowUsers ${i.allowUsers.join(" ")}`,
                ].join("\n"),
              },
            },
            { argv: ["sshd", "-t"] },
            { argv: ["systemctl", "enable", "--now", "ssh.service"] },
            { argv: ["systemctl", "reload", "ssh.service"] },
          ],
  },
  "updates.configure": {
    name: "updates.configure",
    input: OpInputSchemas["updates.configure"],
    describe: (i) =>
      `Security updates ${i.security === "automatic" ? "installed automatically" : "announced on the dashboard"}` +
      `${i.reboot === "window" ? `, reboots at ${i.rebootTime} when needed` : ", no automatic reboots"}; app updates ${i.apps}.`,
    commands: (i) => [
      {
        argv: [],
        writes: {
          path: "/etc/apt/apt.conf.d/52freehold-unattended-upgrades",
          mode: "0644",
          content: [
            `APT::Periodic::Unattended-Upgrade "${i.security === "automatic" ? 1 : 0}";`,
            `Unattended-Upgrade::Automatic-Reboot "${i.reboot === "window" ? "true" : "false"}";`,
            `Unattended-Upgrade::Automatic-Reboot-Time "${i.rebootTime}";`,
          ].join("\n"),
        },
      },
      { argv: ["systemctl", "enable", "--now", "unattended-upgrades.service", "apt-daily-upgrade.timer"] },
    ],
  },
  "backup.configure": {
    name: "backup.configure",
    input: OpInputSchemas["backup.configure"],
    describe: (i) =>
      i.target.kind === "none"
        ? "No backups (you can add a target later on the dashboard)."
        : `Encrypted backups (restic) to ${backupRepository(i.target)}, ${i.frequency} at ${i.time}, keeping ` +
          `${i.retention.daily} daily, ${i.retention.weekly} weekly and ${i.retention.monthly} monthly snapshots` +
          `${i.checkMonthly ? "; a monthly integrity check and restore drill" : ""}.`,
    commands: (i) => {
      if (i.target.kind === "none") return [];
      const repo = backupRepository(i.target);
      const env = [
        "env",
        `RESTIC_REPOSITORY=${repo}`,
        "RESTIC_PASSWORD_FILE=/etc/freehold/backup/repository-password",
      ];
      return [
        {
          argv: [],
          writes: {
            path: "/etc/freehold/backup/repository-password",
            mode: "0600",
            content: "<backup repository password>",
          },
        },
        ...(i.s3SecretAccessKey
          ? [
              {
                argv: [],
                writes: {
                  path: "/etc/freehold/backup/s3.env",
                  mode: "0600",
                  content: "AWS_SECRET_ACCESS_KEY=<secret>",
                },
              },
            ]
          : []),
        { argv: [...env, "restic", "init"] },
        { argv: [...env, "restic", "backup", "--dry-run", "--", ...i.paths] },
        { argv: ["systemctl", "enable", "--now", "freehold-backup.timer", "freehold-backup-check.timer"] },
      ];
    },
  },
  "node.install": {
    name: "node.install",
    input: OpInputSchemas["node.install"],
    describe: (i) => `Install and start the ${i.id} node${i.mode ? ` (${i.mode})` : ""}.`,
    commands: (i) => [
      { argv: ["freehold-node", "install", "--mode", i.mode ?? "default", "--", i.id] },
      { argv: ["systemctl", "enable", "--now", `freehold-node@${i.id}.service`] },
    ],
  },
  "model.pull": {
    name: "model.pull",
    input: OpInputSchemas["model.pull"],
    describe: (i) => `Download the ${i.id} model (${i.quant}).`,
    commands: (i) => [{ argv: ["ollama", "pull", "--", i.ollama] }],
  },
};

function backupRepository(target: OpTarget): string {
  switch (target.kind) {
    case "none":
      return "(none)";
    case "usb":
      return `/media/freehold-backup (${target.disk})`;
    case "sftp":
      return `sftp:${target.user}@${target.host}:${target.path}`;
    case "rest":
      return `rest:${target.url}`;
    case "s3":
      return `s3:${target.endpoint.replace(/\/$/, "")}/${target.bucket}`;
  }
}
type OpTarget = z.infer<(typeof OpInputSchemas)["backup.configure"]>["target"];

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
  const stdin = command.stdin
    ? "secret" in command.stdin
      ? `  < stdin: <${command.stdin.secret}>`
      : `  < stdin: ${JSON.stringify(command.stdin.text)}`
    : "";
  const fd3 = command.fd3 ? `  3< <${command.fd3.secret}>` : "";
  return `${quoted.join(" ")}${stdin}${fd3}`;
}
