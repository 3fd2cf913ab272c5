import { promises as fs } from "node:fs";
import path from "node:path";
import { ByIdPathSchema } from "../../_schemas/backup";

/**
 * Stable names of removable disks for the backup target: the /dev/disk/by-id/ links that point at
 * a disk or one of its partitions (a kernel name like /dev/sdb changes between boots; the by-id
 * name does not). Partitions first: a backup needs a filesystem, which usually sits on part1.
 */
export async function usbBackupCandidates(
  disks: readonly { path: string; label: string }[],
  dir = "/dev/disk/by-id",
): Promise<{ path: string; label: string }[]> {
  const names = await fs.readdir(/* turbopackIgnore: true */ dir).catch(() => [] as string[]);
  const out: { path: string; label: string; partition: boolean; real: string }[] = [];
  for (const name of names.sort()) {
    const link = path.join(/* turbopackIgnore: true */ dir, name);
    if (!ByIdPathSchema.safeParse(link).success) continue;
    const real = await fs.realpath(/* turbopackIgnore: true */ link).catch(() => null);
    if (!real) continue;
    const disk = disks.find((d) => real === d.path || partitionOf(real, d.path));
    if (!disk) continue;
    const partition = real !== disk.path;
    out.push({
      path: link,
      label: `${disk.label}${partition ? ` (${path.basename(real)})` : ""}`,
      partition,
      real,
    });
  }
  // One name per device node: udev makes several (usb-..., wwn-...); keep the first of each.
  const seen = new Set<string>();
  const unique = [];
  for (const c of out.sort((a, b) => Number(b.partition) - Number(a.partition))) {
    if (seen.has(c.real)) continue;
    seen.add(c.real);
    unique.push({ path: c.path, label: c.label });
  }
  return unique;
}

function partitionOf(real: string, disk: string): boolean {
  return new RegExp(`^${disk.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}p?\\d+$`).test(real);
}
