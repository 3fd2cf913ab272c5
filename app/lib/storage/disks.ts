import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type LsblkDevice, LsblkSchema } from "../../_schemas/lsblk";

/**
 * What is on each disk, for the storage step: the partition table and filesystems lsblk (udev's
 * blkid data) reports. A disk can be used without a typed confirmation only when it is blank or
 * holds nothing but our own empty data partition (GPT partition named freehold-data, no
 * filesystem); anything else will be erased, so the page asks for its name first.
 */

export const STORAGE_LSBLK_ARGS = [
  "--json",
  "--bytes",
  "--output",
  "NAME,PATH,TYPE,SIZE,MODEL,TRAN,RM,MOUNTPOINTS,PTTYPE,FSTYPE,PARTLABEL,LABEL",
];

export interface StorageDisk {
  path: string;
  /** What the owner types to confirm erasing (the kernel name, e.g. "sdb"). */
  name: string;
  model: string | null;
  sizeBytes: number;
  removable: boolean;
  system: boolean;
  /** blank: nothing on it; ours: only our empty data partition; data: anything else. */
  contents: "blank" | "ours" | "data";
  /** What is on it, in words ("GPT, 2 partitions: ext4 "photos", vfat"). */
  summary: string;
}

function flatten(node: LsblkDevice): LsblkDevice[] {
  return [node, ...(node.children ?? []).flatMap(flatten)];
}

export function storageDisksFromLsblk(json: unknown): StorageDisk[] {
  const { blockdevices } = LsblkSchema.parse(json);
  return blockdevices
    .filter((d) => d.type === "disk" && !/^(zram|ram|loop)/.test(d.name))
    .map((d) => {
      const all = flatten(d);
      const parts = (d.children ?? []).filter((c) => c.type === "part");
      const system = all.some((n) => n.mountpoints?.includes("/"));
      const filesystems = all.filter((n) => n.fstype);
      const onlyOurs =
        parts.length === 1 &&
        parts[0]?.partlabel === "freehold-data" &&
        !parts[0]?.fstype &&
        (parts[0]?.children ?? []).length === 0 &&
        !d.fstype;
      const contents: StorageDisk["contents"] =
        !d.pttype && parts.length === 0 && filesystems.length === 0 ? "blank" : onlyOurs ? "ours" : "data";
      const summary =
        contents === "blank"
          ? "empty"
          : [
              d.pttype ? `${d.pttype.toUpperCase()} partition table` : null,
              parts.length > 0 ? `${parts.length} partition${parts.length === 1 ? "" : "s"}` : null,
              filesystems.length > 0
                ? `filesystems: ${filesystems.map((f) => `${f.fstype}${f.label ? ` "${f.label}"` : ""}`).join(", ")}`
                : null,
            ]
              .filter(Boolean)
              .join(", ");
      return {
        path: d.path,
        name: d.name,
        model: d.model?.trim() || null,
        sizeBytes: d.size ?? 0,
        removable: d.rm === true || d.rm === "1",
        system,
        contents,
        summary,
      };
    });
}

const run = promisify(execFile);

/** Reads the disks now (read-only; works unprivileged). Empty when lsblk is unavailable. */
export async function detectStorage(): Promise<StorageDisk[]> {
  try {
    const { stdout } = await run("lsblk", STORAGE_LSBLK_ARGS, { timeout: 5000 });
    return storageDisksFromLsblk(JSON.parse(stdout));
  } catch {
    return [];
  }
}

/** Whether choosing this disk needs the owner to type its name (it will be erased). */
export function needsEraseConfirmation(disk: StorageDisk): boolean {
  return disk.contents === "data";
}

export type StorageCheck =
  | { ok: true; disk: string; erase: boolean; diskLabel: string }
  | { ok: false; fields: Record<string, string[]> };

/** Server-side check of the storage choice against the disks as they are now. */
export function checkStorageChoice(
  choice: { disk: string; confirmErase: string },
  disks: StorageDisk[],
): StorageCheck {
  if (choice.disk === "system") {
    return { ok: true, disk: "system", erase: false, diskLabel: "the free space on the system disk" };
  }
  const disk = disks.find((d) => d.path === choice.disk);
  if (!disk) return { ok: false, fields: { disk: ["That disk is not attached (any more)."] } };
  if (disk.system) return { ok: false, fields: { disk: ["That disk holds the running system."] } };
  const label = `${disk.model ?? "disk"} ${disk.path}`;
  if (needsEraseConfirmation(disk)) {
    if (choice.confirmErase.trim() !== disk.name) {
      return {
        ok: false,
        fields: {
          confirmErase: [`${disk.path} holds data (${disk.summary}). Type ${disk.name} to erase it.`],
        },
      };
    }
    return { ok: true, disk: disk.path, erase: true, diskLabel: label };
  }
  return { ok: true, disk: disk.path, erase: false, diskLabel: label };
}
