import { type LsblkDevice, LsblkSchema } from "../../_schemas/lsblk";
import { type Host, OpError } from "../host";
import { blkid } from "./luks";

/**
 * An attached disk given whole to Freehold: one GPT partition named freehold-data. A disk that
 * holds anything else is wiped only when the owner confirmed it by name (input.erase); a disk that
 * already has exactly our partition is reused (a run resumed after a power cut).
 */

export const PART_NAME = "freehold-data";
export const wipeArgv = (dev: string) => ["wipefs", "--all", "--", dev];
export const sfdiskArgv = (disk: string) => ["sfdisk", "--label", "gpt", "--", disk];
export const SFDISK_SCRIPT = `type=linux, name=${PART_NAME}\n`;
export const SETTLE = ["udevadm", "settle", "--timeout=30"];

/** The kernel's name for partition 1 (sdb → sdb1, nvme0n1 → nvme0n1p1), for the preview only. */
export const firstPartition = (disk: string) => (/\d$/.test(disk) ? `${disk}p1` : `${disk}1`);

async function lsblk(host: Host, disk: string): Promise<LsblkDevice> {
  const r = await host.run([
    "lsblk",
    "--json",
    "--bytes",
    "--paths",
    "--output",
    "NAME,PATH,TYPE,SIZE,PARTLABEL,FSTYPE,MOUNTPOINTS",
    "--",
    disk,
  ]);
  const dev = LsblkSchema.parse(JSON.parse(r.stdout)).blockdevices[0];
  if (!dev) throw new OpError(`${disk} was not found`, "Is the disk still attached?");
  return dev;
}

const mounts = (d: LsblkDevice): string[] => [
  ...(d.mountpoints ?? []).filter((m): m is string => !!m),
  ...(d.children ?? []).flatMap(mounts),
];

const ourPartition = (d: LsblkDevice) => {
  const parts = d.children ?? [];
  return parts.length === 1 && parts[0]?.partlabel === PART_NAME ? parts[0].path : null;
};

/** Returns the data partition of `disk`, partitioning (and wiping, if confirmed) when needed. */
export async function ensureDataPartition(
  host: Host,
  disk: string,
  erase: boolean,
  changes: string[],
): Promise<string> {
  const tree = await lsblk(host, disk);
  if (tree.type !== "disk") throw new OpError(`${disk} is not a whole disk`);
  const inUse = mounts(tree).filter((m) => m !== "/srv/freehold");
  if (inUse.length > 0) {
    throw new OpError(`${disk} is in use (mounted at ${inUse.join(", ")})`, "Choose another disk.");
  }
  const existing = ourPartition(tree);
  if (existing) return existing;

  const ids = await blkid(host, disk);
  if (ids.PTTYPE || ids.TYPE || (tree.children ?? []).length > 0) {
    if (!erase) throw refuse(disk, ids.TYPE ?? ids.PTTYPE ?? "partitions");
    host.progress(`erasing ${disk}`);
    await host.run(wipeArgv(disk));
    changes.push("wiped disk");
  }
  await host.run(sfdiskArgv(disk), { stdin: SFDISK_SCRIPT });
  await host.run(SETTLE);
  changes.push("partitioned");
  const part = ourPartition(await lsblk(host, disk));
  if (!part)
    throw new OpError(
      `the new partition on ${disk} did not appear`,
      "Unplug the disk, plug it in again and retry.",
    );
  return part;
}

export function refuse(dev: string, what: string): OpError {
  return new OpError(
    `${dev} holds data (${what}); it is never formatted without your confirmation`,
    "Go back to the storage step and confirm erasing this disk by typing its name, or choose another disk.",
  );
}
