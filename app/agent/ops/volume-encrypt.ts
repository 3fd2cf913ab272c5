import { type OpInput, OpInputSchemas } from "../../_schemas/ops";
import { type Command, runs, writes } from "../command";
import { type Host, OpError } from "../host";
import { AGENT_STATE_DIR } from "../paths";
import { ensureFile, type PlanAgentOp, unitIs } from "./common";
import {
  isMapperMount,
  MOUNT_UNIT,
  MOUNT_UNIT_PATH,
  mountedAt,
  mountUnit,
  recordContent,
  START_MOUNT,
  SYSTEM_PARTITION,
  systemPartition,
  VOLUME_RECORD,
  type VolumeRecord,
} from "./data-volume";
import {
  ensureDataPartition,
  firstPartition,
  refuse,
  SETTLE,
  SFDISK_SCRIPT,
  sfdiskArgv,
  wipeArgv,
} from "./disk-layout";
import {
  backupHeader,
  blkid,
  type Cipher,
  chooseCipher,
  ensureRecoveryKey,
  formatLuks,
  HEADER_BACKUP,
  headerBackupArgv,
  isLuks,
  keyOpens,
  LUKS_LABEL,
  LUKS_SUBSYSTEM,
  luksAddKeyArgv,
  luksFormatArgv,
  luksProblems,
  MAPPER_PATH,
  oneLine,
  openArgv,
  openVolume,
  readLuks,
} from "./luks";

/**
 * volume.encrypt: the data volume at /srv/freehold, LUKS2 with the owner's passphrase and the
 * recovery key, or plain ext4. Nothing that holds data is formatted unless input.erase says the
 * owner confirmed it; our own LUKS volume that the passphrase opens is resumed, never reformatted.
 */

type Input = OpInput<"volume.encrypt">;

const FS_LABEL = "freehold-data";
const mkfsArgv = (dev: string) => ["mkfs.ext4", "-L", FS_LABEL, "--", dev];
const DAEMON_RELOAD = ["systemctl", "daemon-reload"];
const ENABLE_MOUNT = ["systemctl", "enable", "--", MOUNT_UNIT];
const byUuid = (uuid: string) => `/dev/disk/by-uuid/${uuid}`;

/** The LUKS volume on `part`: formatted only when absent (or foreign and erase confirmed). */
async function ensureLuks(host: Host, part: string, input: Input, keys: Keys, c: Cipher, changes: string[]) {
  if (await isLuks(host, part)) {
    const ids = await blkid(host, part);
    const ours = ids.LABEL === LUKS_LABEL && ids.SUBSYSTEM === LUKS_SUBSYSTEM;
    if (ours && (await keyOpens(host, part, keys.passphrase))) return;
    // A power cut during luksFormat can leave our header without a working key slot: the marker
    // written just before it says this partition is ours to format again.
    const interrupted = ours && (await host.readFile(FORMATTING))?.trim() === part;
    if (!input.erase && !interrupted) {
      throw ours
        ? new OpError(
            "the passphrase does not open the Freehold volume already on this disk",
            "Use the passphrase you chose then, or confirm erasing the disk in the storage step.",
          )
        : refuse(part, "an encrypted volume");
    }
    await host.run(wipeArgv(part));
    changes.push("wiped");
  } else {
    const ids = await blkid(host, part);
    if (ids.TYPE || ids.PTTYPE) {
      if (!input.erase) throw refuse(part, ids.TYPE ?? ids.PTTYPE ?? "");
      await host.run(wipeArgv(part));
      changes.push("wiped");
    }
  }
  await host.writeFile(FORMATTING, `${part}\n`, 0o600);
  await formatLuks(host, part, keys.passphrase, c);
  changes.push("luksFormat");
}

/** Written before luksFormat and removed once both key slots exist (see ensureLuks). */
export const FORMATTING = `${AGENT_STATE_DIR}/luks-formatting`;

interface Keys {
  passphrase: string;
  recoveryKey: string;
}

async function ensureEncrypted(
  host: Host,
  part: string,
  input: Input,
  keys: Keys,
  c: Cipher,
  changes: string[],
) {
  await ensureLuks(host, part, input, keys, c, changes);
  if (await ensureRecoveryKey(host, part, keys.passphrase, keys.recoveryKey)) changes.push("recovery key");
  if (await host.exists(FORMATTING)) await host.removeFile(FORMATTING);
  // A new header (or new slot) needs a new backup; an existing backup of an unchanged header stays.
  if (changes.length > 0 || !(await host.exists(HEADER_BACKUP))) {
    await backupHeader(host, part);
    changes.push("header backup");
  }
  if (!(await host.exists(MAPPER_PATH))) {
    await openVolume(host, part, keys.passphrase);
    changes.push("opened");
  }
  const inner = await blkid(host, MAPPER_PATH);
  if (!inner.TYPE) {
    await host.run(mkfsArgv(MAPPER_PATH));
    changes.push("mkfs");
  } else if (inner.TYPE !== "ext4") {
    throw new OpError(
      `the encrypted volume holds ${inner.TYPE}, not ext4`,
      "Confirm erasing the disk to start over.",
    );
  }
  const uuid = (await blkid(host, part)).UUID;
  if (!uuid) throw new OpError(`${part} has no LUKS UUID`);
  return { what: MAPPER_PATH, record: { device: byUuid(uuid), encrypted: true } };
}

async function ensurePlain(host: Host, part: string, input: Input, changes: string[]) {
  let ids = await blkid(host, part);
  if (!(ids.TYPE === "ext4" && ids.LABEL === FS_LABEL)) {
    if (ids.TYPE || ids.PTTYPE) {
      if (!input.erase) throw refuse(part, ids.TYPE ?? ids.PTTYPE ?? "");
      await host.run(wipeArgv(part));
      changes.push("wiped");
    }
    await host.run(mkfsArgv(part));
    changes.push("mkfs");
    ids = await blkid(host, part);
  }
  if (!ids.UUID) throw new OpError(`${part} has no filesystem UUID after mkfs`);
  return { what: byUuid(ids.UUID), record: { device: byUuid(ids.UUID), encrypted: false } };
}

async function ensureMounted(host: Host, what: string, record: VolumeRecord, changes: string[]) {
  if (await ensureFile(host, MOUNT_UNIT_PATH, mountUnit(what, record.encrypted), 0o644)) {
    await host.run(DAEMON_RELOAD);
    changes.push("mount unit");
  }
  if (!record.encrypted && !(await unitIs(host, "is-enabled", [MOUNT_UNIT]))) {
    await host.run(ENABLE_MOUNT);
    changes.push("enabled");
  }
  if (await ensureFile(host, VOLUME_RECORD, recordContent(record), 0o644)) changes.push("record");
  if (!(await mountedAt(host))) {
    await host.run(START_MOUNT);
    changes.push("mounted");
  }
}

async function verify(host: Host, part: string, record: VolumeRecord, keys: Keys | null, c: Cipher) {
  const problems: string[] = [];
  const mounted = await mountedAt(host);
  if (keys) {
    const info = await readLuks(host, part);
    problems.push(...luksProblems(info, c));
    if (!(await keyOpens(host, part, keys.recoveryKey))) problems.push("recovery key does not open");
    if (!isMapperMount(mounted)) problems.push("not mounted from the mapper");
  } else if (mounted?.fstype !== "ext4" || byUuid(mounted.uuid ?? "") !== record.device) {
    problems.push("not mounted");
  }
  return { problems, mounted };
}

export const volumeEncrypt: PlanAgentOp<"volume.encrypt"> = {
  name: "volume.encrypt",
  input: OpInputSchemas["volume.encrypt"],
  secrets: ["disk.passphrase", "disk.recoveryKey"],

  /** The fresh path on a CPU with AES instructions (the box's own CPU decides; see chooseCipher). */
  preview(input) {
    const c = chooseCipher("flags : aes");
    const system = input.device === "system";
    const part = system ? SYSTEM_PARTITION : firstPartition(input.device);
    const pass = { secret: "disk.passphrase" } as const;
    const commands: Command[] = [];
    if (input.erase) commands.push(runs(wipeArgv(system ? SYSTEM_PARTITION : input.device)));
    if (!system) {
      commands.push(runs(sfdiskArgv(input.device), { stdin: { text: SFDISK_SCRIPT } }), runs(SETTLE));
    }
    const uuid = byUuid("<uuid>");
    if (input.encrypt) {
      commands.push(
        runs(luksFormatArgv(part, c), { stdin: pass }),
        runs(luksAddKeyArgv(part), { stdin: { lines: ["disk.passphrase", "disk.recoveryKey"] } }),
        runs(headerBackupArgv(part)),
        runs(openArgv(part), { stdin: pass }),
        runs(mkfsArgv(MAPPER_PATH)),
        writes(MOUNT_UNIT_PATH, 0o644, mountUnit(MAPPER_PATH, true)),
        runs(DAEMON_RELOAD),
        writes(VOLUME_RECORD, 0o644, recordContent({ device: uuid, encrypted: true })),
      );
    } else {
      commands.push(
        runs(mkfsArgv(part)),
        writes(MOUNT_UNIT_PATH, 0o644, mountUnit(uuid, false)),
        runs(DAEMON_RELOAD),
        runs(ENABLE_MOUNT),
        writes(VOLUME_RECORD, 0o644, recordContent({ device: uuid, encrypted: false })),
      );
    }
    commands.push(runs(START_MOUNT));
    return commands;
  },

  async run(input, secrets, host) {
    let keys: Keys | null = null;
    if (input.encrypt) {
      const passphrase = input.passphrase && secrets[input.passphrase.secret];
      const recoveryKey = input.recoveryKey && secrets[input.recoveryKey.secret];
      if (!passphrase || !recoveryKey)
        throw new OpError("the disk passphrase and the recovery key were not passed");
      keys = { passphrase: oneLine(passphrase), recoveryKey: oneLine(recoveryKey) };
    }
    const c = chooseCipher((await host.readFile("/proc/cpuinfo")) ?? "");
    const changes: string[] = [];
    const part =
      input.device === "system"
        ? await systemPartition(host)
        : await ensureDataPartition(host, input.device, input.erase, changes);
    const { what, record } = keys
      ? await ensureEncrypted(host, part, input, keys, c, changes)
      : await ensurePlain(host, part, input, changes);
    await ensureMounted(host, what, record, changes);

    const { problems, mounted } = await verify(host, part, record, keys, c);
    return {
      changed: changes.length > 0,
      verified: problems.length === 0,
      detail: {
        device: part,
        encrypted: record.encrypted,
        ...(keys ? { cipher: c.cipher } : {}),
        mounted: mounted ? `${mounted.source} (${mounted.fstype})` : null,
        tpm: (await host.exists("/dev/tpmrm0")) ? "present, not enrolled" : "absent",
        ...(changes.length > 0 ? { actions: changes.join(", ") } : {}),
        ...(problems.length > 0 ? { problems: problems.join(", ") } : {}),
      },
    };
  },
};
