import { randomBytes } from "node:crypto";
import { type BackupConfig, type BackupTarget, USB_MOUNT } from "../../_schemas/backup";
import { type OpInput, OpInputSchemas } from "../../_schemas/ops";
import { catConfigArgv, initArgv, knownHostsLine } from "../../lib/backup/restic";
import { renderUnits, TIMERS, USB_MOUNT_UNIT } from "../../lib/backup/units";
import { type Command, runs, writes } from "../command";
import { type Host, OpError } from "../host";
import {
  type BackupLayout,
  BOX_LAYOUT,
  backupFiles,
  ensureDirs,
  ensureTargetReady,
  jsonContent,
  modeAndOwner,
  probeRestic,
  repoOf,
  resticEnv,
  runRestic,
} from "./backup-common";
import { ensureFile, type PlanAgentOp, unitIs } from "./common";
import { mountedAt } from "./data-volume";

/**
 * backup.configure: an encrypted restic repository on the owner's target, and the timers that
 * back up, check and drill it. Observes first (password file and its mode, repository, units,
 * timers) and acts only where something differs; a second run changes nothing.
 *
 * The repository password comes from the plan (the web app generated it for the recovery kit);
 * without one the password file already on the box is kept, or a new one is generated (32 random
 * bytes, base64url) and reported so the dashboard can put it in a kit. A password that does not
 * open an existing repository is never written over a working one.
 */

type Input = OpInput<"backup.configure">;

export const DAEMON_RELOAD = ["systemctl", "daemon-reload"];
const enableNow = (units: string[]) => ["systemctl", "enable", "--now", "--", ...units];
const disableNow = (units: string[]) => ["systemctl", "disable", "--now", "--", ...units];
const sshKeygen = (file: string) => [
  "ssh-keygen",
  "-q",
  "-t",
  "ed25519",
  "-N",
  "",
  "-C",
  "freehold-backup",
  "-f",
  file,
];

/** 32 random bytes, base64url: the password when the web app did not send one. */
export function generatePassword(): string {
  return randomBytes(32).toString("base64url");
}

export function configOf(input: Input): BackupConfig {
  return { target: input.target, paths: input.paths, excludes: input.excludes, retention: input.retention };
}

export function wantedTimers(input: Input): { on: string[]; off: string[] } {
  const extra = [TIMERS.check, TIMERS.drill];
  return input.checkMonthly
    ? { on: [TIMERS.backup, ...extra], off: [] }
    : { on: [TIMERS.backup], off: extra };
}

/** blkid's low-level probe: exit 2 when the device holds no filesystem, partition table or signature. */
export const blkidProbe = (dev: string) => ["blkid", "-p", "-o", "export", "--", dev];
/** Without -F: mkfs.ext4 itself still refuses a device that is mounted or in use. */
export const mkfsBackup = (dev: string) => ["mkfs.ext4", "-q", "-L", "freehold-backup", "--", dev];

/** The by-id disk a blank-disk format may touch: only with the owner's consent, never by UUID. */
const formatCandidate = (input: Input): string | null =>
  input.formatBlankUsb === true && input.target.kind === "usb" && input.target.device.startsWith("/")
    ? input.target.device
    : null;

/**
 * A new USB disk often comes empty: with the owner's consent it gets an ext4 filesystem, but only
 * when blkid finds nothing at all on it. A disk with any filesystem, partition table or other
 * signature is left as it is (the mount then says what is wrong).
 */
async function formatIfBlank(host: Host, layout: BackupLayout, input: Input): Promise<boolean> {
  const dev = formatCandidate(input);
  if (dev === null || (await mountedAt(host, layout.usbMount))) return false;
  if (!(await host.exists(dev)))
    throw new OpError(`the backup disk ${dev} is not plugged in`, "Plug the backup disk in, then retry.");
  const probe = await host.run(blkidProbe(dev), { okCodes: [0, 2] });
  if (probe.code !== 2) return false;
  host.progress(`formatting the blank backup disk ${dev} (ext4)`);
  await host.run(mkfsBackup(dev), { timeoutMs: 10 * 60_000 });
  await host.run(["udevadm", "settle"], { okCodes: [0, 1] });
  return true;
}

const usbWhat = (t: BackupTarget) =>
  t.kind !== "usb" ? null : { what: t.device.startsWith("/") ? t.device : `/dev/disk/by-uuid/${t.device}` };

function secretLine(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!v || /[\r\n]/.test(v)) throw new OpError(`the ${what} is empty or spans several lines`);
  return v;
}

/** The password file: the plan's password, the one on the box, or a new one. */
async function ensurePassword(
  host: Host,
  layout: BackupLayout,
  input: Input,
  passed: string | undefined,
  changes: string[],
) {
  const f = backupFiles(layout);
  const current = (await host.readFile(f.passwordFile))?.trim() || undefined;
  if (passed && current && passed !== current) {
    // The box has another password. If it opens an existing repository, that repository is the
    // owner's: replacing the password would lock them out of it.
    const repo = repoOf(layout, input.target);
    await ensureTargetReady(host, layout, input.target);
    const failure = await probeRestic(
      host,
      repo,
      await resticEnv(host, layout, input.target, repo),
      catConfigArgv(repo),
    );
    if (failure === null)
      throw new OpError(
        `the repository at ${repo.repository} was made with another password than the one in your recovery kit`,
        "Choose an empty target, or keep that repository: put its password into the recovery kit and " +
          "configure backups again from the dashboard.",
      );
  }
  const want = passed ?? current ?? generatePassword();
  let generated = false;
  if (want !== current) {
    await host.writeFile(f.passwordFile, `${want}\n`, 0o600);
    changes.push(current ? "password replaced" : "password");
    generated = !passed && !current;
  } else if ((await modeAndOwner(host, f.passwordFile)) !== `600:${layout.ownerUid}`) {
    await host.writeFile(f.passwordFile, `${want}\n`, 0o600);
    changes.push("password file mode");
  }
  return generated;
}

async function ensureTargetFiles(host: Host, layout: BackupLayout, input: Input, s3: string | undefined) {
  const f = backupFiles(layout);
  const changes: string[] = [];
  const t = input.target;
  if (t.kind === "sftp") {
    if (!(await host.exists(f.sshKey))) {
      await host.run(sshKeygen(f.sshKey));
      changes.push("ssh key");
    }
    if (await ensureFile(host, f.knownHosts, knownHostsLine(t), 0o600)) changes.push("known_hosts");
  }
  if (t.kind === "s3") {
    if (s3 !== undefined && (await ensureFile(host, f.s3Secret, `${s3}\n`, 0o600))) changes.push("s3 key");
    if (!(await host.exists(f.s3Secret)))
      throw new OpError("the S3 secret access key was not passed", "Enter it in the backup settings.");
  }
  return changes;
}

/** Unit files as wanted; the USB mount unit only for a USB target. True when any changed. */
async function ensureUnits(host: Host, layout: BackupLayout, input: Input): Promise<boolean> {
  const units = renderUnits({ frequency: input.frequency, time: input.time }, usbWhat(input.target));
  let changed = false;
  for (const [name, content] of Object.entries(units))
    changed = (await ensureFile(host, `${layout.unitDir}/${name}`, content, 0o644)) || changed;
  const mountUnit = `${layout.unitDir}/${USB_MOUNT_UNIT}`;
  if (input.target.kind !== "usb" && (await host.exists(mountUnit))) {
    await host.removeFile(mountUnit);
    changed = true;
  }
  if (changed) await host.run(DAEMON_RELOAD);
  return changed;
}

async function ensureTimers(host: Host, input: Input, changes: string[]) {
  const { on, off } = wantedTimers(input);
  const disabled = [];
  for (const t of on) if (!(await unitIs(host, "is-enabled", [t]))) disabled.push(t);
  if (disabled.length > 0) {
    await host.run(enableNow(disabled));
    changes.push(`enabled ${disabled.join(" ")}`);
  }
  const enabled = [];
  for (const t of off) if (await unitIs(host, "is-enabled", [t])) enabled.push(t);
  if (enabled.length > 0) {
    await host.run(disableNow(enabled));
    changes.push(`disabled ${enabled.join(" ")}`);
  }
}

export function makeBackupConfigure(layout: BackupLayout = BOX_LAYOUT): PlanAgentOp<"backup.configure"> {
  const f = backupFiles(layout);
  return {
    name: "backup.configure",
    input: OpInputSchemas["backup.configure"],
    secrets: ["backup.repositoryPassword", "backup.s3SecretAccessKey"],

    /** The fresh path: nothing on the box yet, the password from the plan. */
    preview(input) {
      const repo = repoOf(layout, input.target);
      const units = renderUnits({ frequency: input.frequency, time: input.time }, usbWhat(input.target));
      const t = input.target;
      const format = formatCandidate(input);
      return [
        runs(["install", "-d", "-m", "0700", "--", layout.etcDir, layout.stateDir, layout.cacheDir]),
        writes(f.passwordFile, 0o600, "<backup.repositoryPassword>\n"),
        ...(t.kind === "sftp"
          ? [runs(sshKeygen(f.sshKey)), writes(f.knownHosts, 0o600, knownHostsLine(t))]
          : []),
        ...(t.kind === "s3" ? [writes(f.s3Secret, 0o600, "<backup.s3SecretAccessKey>\n")] : []),
        writes(f.config, 0o600, jsonContent(configOf(input))),
        ...Object.entries(units).map(([name, content]) =>
          writes(`${layout.unitDir}/${name}`, 0o644, content),
        ),
        runs(DAEMON_RELOAD),
        ...(format !== null ? [runs(blkidProbe(format)), runs(mkfsBackup(format))] : []),
        ...(t.kind === "usb" ? [runs(["systemctl", "start", "--", USB_MOUNT_UNIT])] : []),
        runs(catConfigArgv(repo)),
        runs(initArgv(repo)),
        runs(enableNow(wantedTimers(input).on)),
      ] satisfies Command[];
    },

    async run(input, secrets, host) {
      const passed = secretLine(secrets["backup.repositoryPassword"], "backup password");
      const s3 = secretLine(secrets["backup.s3SecretAccessKey"], "S3 secret access key");
      const changes: string[] = [];
      if (await ensureDirs(host, layout)) changes.push("directories");
      const generated = await ensurePassword(host, layout, input, passed, changes);
      changes.push(...(await ensureTargetFiles(host, layout, input, s3)));
      if (await ensureFile(host, f.config, jsonContent(configOf(input)), 0o600)) changes.push("config");
      if (await ensureUnits(host, layout, input)) changes.push("units");
      if (await formatIfBlank(host, layout, input)) changes.push("formatted the blank backup disk");
      await ensureTargetReady(host, layout, input.target);

      const repo = repoOf(layout, input.target);
      const env = await resticEnv(host, layout, input.target, repo);
      const missing = await probeRestic(host, repo, env, catConfigArgv(repo));
      if (missing?.kind === "no-repository") {
        host.progress(`creating the restic repository at ${repo.repository}`);
        await runRestic(host, repo, env, initArgv(repo));
        changes.push("restic init");
      } else if (missing?.kind === "ssh-key-refused") {
        const key = (await host.readFile(`${f.sshKey}.pub`))?.trim() ?? "";
        throw new OpError(
          missing.message,
          `Add this line to ~/.ssh/authorized_keys of ${input.target.kind === "sftp" ? input.target.user : "the user"} on the server, then retry: ${key}`,
        );
      } else if (missing) {
        throw new OpError(missing.message, missing.hint);
      }
      await ensureTimers(host, input, changes);

      // Verify: the repository opens with the password on the box, the timers are on.
      const problems: string[] = [];
      const opens = await probeRestic(host, repo, env, catConfigArgv(repo));
      if (opens) problems.push(opens.message);
      const { on, off } = wantedTimers(input);
      for (const t of on) if (!(await unitIs(host, "is-enabled", [t]))) problems.push(`${t} not enabled`);
      for (const t of off) if (await unitIs(host, "is-enabled", [t])) problems.push(`${t} still enabled`);
      if ((await modeAndOwner(host, f.passwordFile)) !== `600:${layout.ownerUid}`)
        problems.push(`${f.passwordFile} is not mode 0600 owned by root`);
      const publicKey =
        input.target.kind === "sftp" ? ((await host.readFile(`${f.sshKey}.pub`))?.trim() ?? null) : null;
      return {
        changed: changes.length > 0,
        verified: problems.length === 0,
        detail: {
          repository: repo.repository,
          timers: on.join(" "),
          ...(input.target.kind === "usb" ? { mountpoint: USB_MOUNT } : {}),
          ...(publicKey ? { sshPublicKey: publicKey } : {}),
          ...(generated ? { passwordGenerated: true } : {}),
          ...(changes.length > 0 ? { actions: changes.join(", ") } : {}),
          ...(problems.length > 0 ? { problems: problems.join("; ") } : {}),
        },
      };
    },
  };
}

export const backupConfigure = makeBackupConfigure();
