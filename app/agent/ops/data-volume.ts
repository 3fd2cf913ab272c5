import { z } from "zod";
import { type Host, OpError } from "../host";
import { AGENT_STATE_DIR } from "../paths";
import { parseExport } from "./common";
import { MAPPER_PATH } from "./luks";

/**
 * The data volume's shared facts: where the system disk's data partition is, the mount unit, and a
 * small record of which device holds the volume (volume.unlock and volume.status read it).
 */

export const MOUNTPOINT = "/srv/freehold";
export const MOUNT_UNIT = "srv-freehold.mount";
export const MOUNT_UNIT_PATH = `/etc/systemd/system/${MOUNT_UNIT}`;
export const SYSTEM_PARTITION = "/dev/disk/by-partlabel/freehold-data";
/** Written by freehold-grow-disk (disk=, partition=, partuuid=); MBR partitions have no PARTLABEL. */
const GROW_DISK_STATE = `${AGENT_STATE_DIR}/data-partition`;
export const VOLUME_RECORD = `${AGENT_STATE_DIR}/data-volume.json`;
export const START_MOUNT = ["systemctl", "start", "--", MOUNT_UNIT];

export const VolumeRecordSchema = z.strictObject({
  /** /dev/disk/by-uuid/<uuid>: stable whatever the kernel names the disk after a reboot. */
  device: z.string().regex(/^\/dev\/disk\/by-uuid\/[0-9a-fA-F-]{8,36}$/),
  encrypted: z.boolean(),
});
export type VolumeRecord = z.infer<typeof VolumeRecordSchema>;

export const recordContent = (r: VolumeRecord) => `${JSON.stringify(r)}\n`;

export async function readRecord(host: Host): Promise<VolumeRecord | null> {
  const text = await host.readFile(VOLUME_RECORD);
  if (text === null) return null;
  try {
    return VolumeRecordSchema.parse(JSON.parse(text));
  } catch {
    throw new OpError(`${VOLUME_RECORD} is damaged`, "Run the storage step again from the dashboard.");
  }
}

/**
 * The mount unit. Encrypted: no [Install] section, so it is never started at boot; the data stays
 * locked until the owner unlocks it from the web UI. Plain: mounted at boot by UUID; nofail so a
 * missing USB disk does not stop the boot.
 */
export function mountUnit(what: string, encrypted: boolean): string {
  const lines = [
    "# Written by freehold-agent (volume.encrypt); edits are overwritten.",
    "[Unit]",
    "Description=Freehold data volume",
    "",
    "[Mount]",
    `What=${what}`,
    `Where=${MOUNTPOINT}`,
    "Type=ext4",
    `Options=noatime,nodev,nosuid${encrypted ? "" : ",nofail"}`,
  ];
  if (!encrypted) lines.push("", "[Install]", "WantedBy=local-fs.target");
  return `${lines.join("\n")}\n`;
}

/** The partition first boot made from the free space of the system disk. */
export async function systemPartition(host: Host): Promise<string> {
  if (await host.exists(SYSTEM_PARTITION)) return SYSTEM_PARTITION;
  const partuuid = parseExport((await host.readFile(GROW_DISK_STATE)) ?? "").partuuid ?? "";
  if (/^[0-9a-fA-F-]{8,36}$/.test(partuuid)) {
    const byUuid = `/dev/disk/by-partuuid/${partuuid}`;
    if (await host.exists(byUuid)) return byUuid;
  }
  throw new OpError(
    "there is no data partition on the system disk",
    "First boot makes it from the free space after the system (see freehold-grow-disk.service); attach a disk and choose it instead.",
  );
}

export interface Mounted {
  source: string;
  fstype: string;
  uuid: string | null;
}

export async function mountedAt(host: Host, mountpoint = MOUNTPOINT): Promise<Mounted | null> {
  const r = await host.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE,UUID", "--", mountpoint], {
    okCodes: [0, 1],
  });
  const [source, fstype, uuid] = r.stdout.trim().split(/\s+/);
  if (r.code !== 0 || !source || !fstype) return null;
  return { source, fstype, uuid: uuid ?? null };
}

export const isMapperMount = (m: Mounted | null) => m?.source === MAPPER_PATH && m.fstype === "ext4";
