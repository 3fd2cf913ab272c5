import { z } from "zod";
import type { Disk, DiskKind } from "../../_schemas/hardware";

/** lsblk --json --bytes output, only the columns we ask for. */
const LsblkDeviceSchema: z.ZodType<LsblkDevice> = z.lazy(() =>
  z.object({
    name: z.string(),
    path: z.string(),
    type: z.string(),
    size: z.coerce.number().nullable(),
    model: z.string().nullable().optional(),
    tran: z.string().nullable().optional(),
    rm: z.union([z.boolean(), z.string()]).nullable().optional(),
    mountpoints: z.array(z.string().nullable()).nullable().optional(),
    children: z.array(LsblkDeviceSchema).optional(),
  }),
);

interface LsblkDevice {
  name: string;
  path: string;
  type: string;
  size: number | null;
  model?: string | null;
  tran?: string | null;
  rm?: boolean | string | null;
  mountpoints?: (string | null)[] | null;
  children?: LsblkDevice[];
}

export const LsblkSchema = z.object({ blockdevices: z.array(LsblkDeviceSchema) });

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
