/**
 * Disk layout as data → sector offsets and the sfdisk script that writes the partition table onto
 * the image file. Pure functions: the rendered script is snapshot-tested.
 */
import type { Partition, Target } from "./targets/schema";

export const SECTOR = 512;
export const MiB = 1024 * 1024;
const SECTORS_PER_MIB = MiB / SECTOR;
/** Room after the last partition: the backup GPT (33 sectors) rounded to 1 MiB. */
const TAIL_MIB = 1;

export interface PlacedPartition extends Partition {
  index: number; // 1-based partition number
  startSector: number;
  sizeSectors: number;
  offsetBytes: number;
  sizeBytes: number;
  /** What the kernel calls PARTUUID. */
  partuuid: string;
}

export interface Layout {
  table: "gpt" | "dos";
  diskId: string;
  sizeBytes: number;
  partitions: PlacedPartition[];
}

export function computeLayout(target: Target): Layout {
  let next = target.firstLbaMiB * SECTORS_PER_MIB;
  const isGpt = target.partitionTable.type === "gpt";
  const diskId = target.partitionTable.diskId;
  const partitions = target.partitions.map((p, i): PlacedPartition => {
    const startSector = next;
    const sizeSectors = p.sizeMiB * SECTORS_PER_MIB;
    next += sizeSectors;
    const index = i + 1;
    return {
      ...p,
      index,
      startSector,
      sizeSectors,
      offsetBytes: startSector * SECTOR,
      sizeBytes: sizeSectors * SECTOR,
      partuuid: isGpt ? (p.uuid ?? "") : `${diskId.slice(2)}-${String(index).padStart(2, "0")}`,
    };
  });
  return {
    table: target.partitionTable.type,
    diskId,
    sizeBytes: (next + TAIL_MIB * SECTORS_PER_MIB) * SECTOR,
    partitions,
  };
}

export function rootPartition(layout: Layout): PlacedPartition {
  const root = layout.partitions.find((p) => p.role === "root");
  if (!root) throw new Error("layout has no root partition");
  return root;
}

export function bootPartition(layout: Layout): PlacedPartition | undefined {
  return layout.partitions.find((p) => p.role === "esp" || p.role === "firmware");
}

/** The sfdisk script (sfdisk(8) "dump" format) for the image file. */
export function renderSfdiskScript(layout: Layout): string {
  const lines = [`label: ${layout.table}`, `label-id: ${layout.diskId}`, "unit: sectors"];
  if (layout.table === "gpt") lines.push(`first-lba: ${SECTORS_PER_MIB}`, "table-length: 128");
  lines.push("sector-size: 512", "");
  for (const p of layout.partitions) {
    const fields = [`start=${p.startSector}`, `size=${p.sizeSectors}`, `type=${p.type}`];
    if (layout.table === "gpt") fields.push(`uuid=${p.uuid}`, `name="${p.name}"`);
    else if (p.bootable) fields.push("bootable");
    lines.push(fields.join(", "));
  }
  return `${lines.join("\n")}\n`;
}
