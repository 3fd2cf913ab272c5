import type { Disk, DiskKind } from "../../_schemas/hardware";
import { type LsblkDevice, LsblkSchema } from "../../_schemas/lsblk";

export const LSBLK_ARGS = ["--json", "--bytes", "--output", "NAME,PATH,TYPE,SIZE,MODEL,TRAN,RM,MOUNTPOINTS"];

function diskKind(device: LsblkDevice): DiskKind {
  const tran = device.tran?.toLowerCase() ?? "";
  if (device.name.startsWith("mmcblk") || tran === "mmc") return "sd";
  if (tran === "usb") return "usb";
  if (tran === "nvme" || device.name.startsWith("nvme")) return "nvme";
  if (tran === "sata" || tran === "ata" || tran === "sas") return "sata";
  if (device.name.startsWith("vd")) return "virtio";
  return "other";
}

function holdsRoot(device: LsblkDevice): boolean {
  if (device.mountpoints?.includes("/")) return true;
  return (device.children ?? []).some(holdsRoot);
}

/** Whole disks from lsblk's JSON (loop, zram and optical devices are not places to keep data). */
export function disksFromLsblk(json: unknown): Disk[] {
  const { blockdevices } = LsblkSchema.parse(json);
  return (
    blockdevices
      // eMMC boot areas and RPMB show up as disks but are not places to keep data either.
      .filter(
        (d) =>
          d.type === "disk" && !/^(zram|ram|loop)/.test(d.name) && !/^mmcblk\d+(boot\d+|rpmb)$/.test(d.name),
      )
      .map((d) => ({
        path: d.path,
        model: d.model?.trim() || null,
        sizeBytes: d.size ?? 0,
        kind: diskKind(d),
        removable: d.rm === true || d.rm === "1",
        system: holdsRoot(d),
      }))
  );
}
