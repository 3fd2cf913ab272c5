/**
 * The disk image file, without loop devices: sfdisk writes the partition table onto a sparse
 * file; for legacy BIOS, GRUB's boot.img and core.img are placed by hand (what grub-bios-setup
 * does for an embedded core image). The filesystems are made in place next (70-filesystems).
 */
import { closeSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context";
import { capture } from "../exec";
import { type Layout, renderSfdiskScript, SECTOR } from "../layout";
import { die } from "../log";

/** Offsets in GRUB's i386-pc boot.img (grub/include/grub/i386/pc/boot.h). */
const KERNEL_SECTOR = 0x5c;
const BOOT_DRIVE = 0x64;
const DRIVE_CHECK = 0x66;
const MBR_KEEP_FROM = 0x1b8; // disk signature, partition table, 0x55AA

/**
 * boot.img patched for a core image at `coreSector`, keeping the existing MBR's partition table;
 * and core.img whose first (diskboot) sector loads the rest from the following sectors.
 */
export function patchGrubBios(
  bootImg: Buffer,
  coreImg: Buffer,
  mbr: Buffer,
  coreSector: number,
): { mbr: Buffer; core: Buffer } {
  if (bootImg.length !== SECTOR) throw new Error("boot.img must be one sector");
  if (mbr.readUInt16LE(0x1fe) !== 0xaa55) throw new Error("no partition table in sector 0");
  const out = Buffer.from(bootImg);
  mbr.copy(out, MBR_KEEP_FROM, MBR_KEEP_FROM, SECTOR);
  out.writeBigUInt64LE(BigInt(coreSector), KERNEL_SECTOR);
  out[BOOT_DRIVE] = 0xff;
  // hard disk: skip the check for buggy BIOSes that pass a floppy drive number (as grub-bios-setup does)
  if (out[DRIVE_CHECK] === 0xeb) {
    out[DRIVE_CHECK] = 0x90;
    out[DRIVE_CHECK + 1] = 0x90;
  }
  const core = Buffer.from(coreImg);
  // the blocklist at the end of diskboot's sector: start (u64), len (u16), segment (u16)
  const bl = SECTOR - 12;
  const sectors = Math.ceil(core.length / SECTOR);
  const len = core.readUInt16LE(bl + 8);
  if (len !== sectors - 1)
    throw new Error(`unexpected core.img blocklist length ${len} (core has ${sectors} sectors)`);
  core.writeBigUInt64LE(BigInt(coreSector + 1), bl);
  return { mbr: out, core };
}

interface SfdiskJson {
  partitiontable: {
    label: string;
    id: string;
    partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string }[];
  };
}

export async function readPartitionTable(image: string): Promise<SfdiskJson["partitiontable"]> {
  return (JSON.parse(await capture(["sfdisk", "--json", "--", image])) as SfdiskJson).partitiontable;
}

export function checkPartitionTable(pt: SfdiskJson["partitiontable"], layout: Layout): string[] {
  const problems: string[] = [];
  if (pt.label !== layout.table) problems.push(`label ${pt.label} ≠ ${layout.table}`);
  if (pt.id.toLowerCase() !== layout.diskId.toLowerCase())
    problems.push(`disk id ${pt.id} ≠ ${layout.diskId}`);
  if (pt.partitions.length !== layout.partitions.length)
    problems.push(`${pt.partitions.length} partitions ≠ ${layout.partitions.length}`);
  layout.partitions.forEach((want, i) => {
    const got = pt.partitions[i];
    if (!got) return;
    if (got.start !== want.startSector || got.size !== want.sizeSectors)
      problems.push(
        `${want.name}: at ${got.start}+${got.size}, want ${want.startSector}+${want.sizeSectors}`,
      );
    const sameType =
      layout.table === "gpt"
        ? got.type.toLowerCase() === want.type.toLowerCase()
        : Number.parseInt(got.type, 16) === Number.parseInt(want.type, 16); // sfdisk prints "c" for 0c
    if (!sameType) problems.push(`${want.name}: type ${got.type}`);
    if (layout.table === "gpt" && (got.uuid?.toLowerCase() !== want.uuid || got.name !== want.name))
      problems.push(`${want.name}: uuid/name ${got.uuid} ${got.name}`);
  });
  return problems;
}

export async function assembleDisk(ctx: BuildContext): Promise<void> {
  const raw = path.join(ctx.workDir, `freehold-${ctx.target.name}.img`);
  rmSync(raw, { force: true });
  await ctx.run(["truncate", "--size", String(ctx.layout.sizeBytes), "--", raw]);
  const script = renderSfdiskScript(ctx.layout);
  await ctx.step("partition table (sfdisk on the image file)", () =>
    ctx.run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always", "--", raw], {
      input: script,
    }),
  );
  const biosBoot = ctx.layout.partitions.find((p) => p.role === "bios-boot");
  if (biosBoot) {
    await ctx.step(
      "GRUB for legacy BIOS (boot.img in the MBR, core.img in the BIOS boot partition)",
      async () => {
        const bootImg = readFileSync(ctx.state.bootFiles["boot.img"] ?? die("boot.img not built"));
        const coreImg = readFileSync(ctx.state.bootFiles["core.img"] ?? die("core.img not built"));
        if (coreImg.length > biosBoot.sizeBytes)
          die(`core.img (${coreImg.length} bytes) does not fit the BIOS boot partition`);
        const fd = openSync(raw, "r+");
        try {
          const mbr = Buffer.alloc(SECTOR);
          readSync(fd, mbr, 0, SECTOR, 0);
          const patched = patchGrubBios(bootImg, coreImg, mbr, biosBoot.startSector);
          writeSync(fd, patched.mbr, 0, SECTOR, 0);
          writeSync(fd, patched.core, 0, patched.core.length, biosBoot.offsetBytes);
        } finally {
          closeSync(fd);
        }
      },
    );
  }
  const problems = checkPartitionTable(await readPartitionTable(raw), ctx.layout);
  if (problems.length) die(`the image's partition table is not the layout: ${problems.join("; ")}`);
  ctx.state.rawImage = raw;
}
