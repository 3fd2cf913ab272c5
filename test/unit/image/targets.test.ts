import { describe, expect, it } from "vitest";
import { bootstrapKey } from "../../../image/context";
import { computeLayout, renderSfdiskScript, rootPartition } from "../../../image/layout";
import { renderFstab } from "../../../image/stages/40-configure";
import { kernelCmdline, renderEarlyCfg, renderGrubCfg } from "../../../image/stages/50-bootloader";
import { checkPartitionTable, patchGrubBios } from "../../../image/stages/60-disk";
import { getTarget, TARGETS } from "../../../image/targets/index";
import { type TargetInput, TargetSchema } from "../../../image/targets/schema";

const names = ["amd64", "arm64", "rpi"] as const;
const clone = (t: TargetInput): TargetInput => structuredClone(t);

describe("image targets", () => {
  it.each(names)("%s passes the schema", (name) => {
    const t = getTarget(name);
    expect(t.name).toBe(name);
    expect(t.suite).toBe("trixie");
    expect(t.packages).toContain("nodejs");
    expect(t.units).toContain("freehold-web.service");
  });

  it("rejects a GPT target without a BIOS boot partition when i386-pc is asked for", () => {
    const t = clone(TARGETS.amd64);
    t.partitions = t.partitions.filter((p) => p.role !== "bios-boot");
    const r = TargetSchema.safeParse(t);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("BIOS boot partition");
  });

  it("rejects duplicate UUIDs, long FAT labels and GUID types on MBR", () => {
    const dup = clone(TARGETS.amd64);
    const [a, b] = [dup.partitions[1], dup.partitions[2]];
    if (a && b) b.uuid = a.uuid;
    expect(TargetSchema.safeParse(dup).success).toBe(false);

    const label = clone(TARGETS.arm64);
    const esp = label.partitions[0];
    if (esp) esp.fsLabel = "MUCH-TOO-LONG-LABEL";
    expect(TargetSchema.safeParse(label).success).toBe(false);

    const mbr = clone(TARGETS.rpi);
    const fw = mbr.partitions[0];
    if (fw) fw.type = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
    expect(TargetSchema.safeParse(mbr).success).toBe(false);
  });

  it("rejects a backports package on a target without backports", () => {
    const t = clone(TARGETS.amd64);
    t.packages = [...t.packages, "linux-image-amd64/trixie-backports"];
    expect(TargetSchema.safeParse(t).success).toBe(false);
  });

  it("keys the bootstrap cache on the package list, mirror and snapshot", () => {
    const t = getTarget("amd64");
    const k = bootstrapKey(t);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(bootstrapKey(t)).toBe(k);
    expect(bootstrapKey({ ...t, packages: [...t.packages, "htop"] })).not.toBe(k);
    expect(bootstrapKey({ ...t, mirror: "http://ftp.de.debian.org/debian" })).not.toBe(k);
    expect(bootstrapKey(t, "20260101T000000Z")).not.toBe(k);
    // order of the list does not matter
    expect(bootstrapKey({ ...t, packages: [...t.packages].reverse() })).toBe(k);
  });
});

describe("disk layout", () => {
  it.each(names)("%s partition script", (name) => {
    expect(renderSfdiskScript(computeLayout(getTarget(name)))).toMatchSnapshot();
  });

  it("places amd64 partitions 1 MiB aligned, back to back, root last", () => {
    const l = computeLayout(getTarget("amd64"));
    expect(l.partitions.map((p) => p.role)).toEqual(["bios-boot", "esp", "root"]);
    for (const p of l.partitions) expect(p.startSector % 2048).toBe(0);
    for (let i = 1; i < l.partitions.length; i++) {
      const prev = l.partitions[i - 1];
      expect(l.partitions[i]?.startSector).toBe((prev?.startSector ?? 0) + (prev?.sizeSectors ?? 0));
    }
    const last = l.partitions.at(-1);
    // room for the backup GPT after the last partition
    expect(l.sizeBytes - ((last?.offsetBytes ?? 0) + (last?.sizeBytes ?? 0))).toBeGreaterThanOrEqual(
      33 * 512,
    );
  });

  it("names the rpi root by MBR PARTUUID (disk id + partition number)", () => {
    const l = computeLayout(getTarget("rpi"));
    expect(rootPartition(l).partuuid).toBe("d3f611fb-02");
    expect(kernelCmdline({ layout: l, target: getTarget("rpi") })).toContain("root=PARTUUID=d3f611fb-02");
  });

  it("compares a partition table with the layout", () => {
    const l = computeLayout(getTarget("arm64"));
    const pt = {
      label: "gpt",
      id: l.diskId.toUpperCase(),
      partitions: l.partitions.map((p) => ({
        node: "x",
        start: p.startSector,
        size: p.sizeSectors,
        type: p.type.toUpperCase(),
        uuid: p.uuid?.toUpperCase(),
        name: p.name,
      })),
    };
    expect(checkPartitionTable(pt, l)).toEqual([]);
    const first = pt.partitions[0];
    if (first) first.start += 2048;
    expect(checkPartitionTable(pt, l).join()).toContain("esp");
  });
});

describe("boot configuration", () => {
  it("grub.cfg boots the kernel symlinks from the root by UUID and PARTUUID", () => {
    const t = getTarget("amd64");
    const l = computeLayout(t);
    const cfg = renderGrubCfg({ layout: l, target: t });
    const root = rootPartition(l);
    expect(cfg).toContain(`search --no-floppy --fs-uuid --set=root ${root.fsUuid}`);
    expect(cfg).toContain(`linux /vmlinuz root=PARTUUID=${root.partuuid} ro`);
    expect(cfg).toContain("initrd /initrd.img\n");
    expect(cfg).toContain("console=ttyS0,115200n8");
    expect(renderEarlyCfg({ layout: l })).toContain(root.fsUuid);
  });

  it("fstab mounts root by UUID and the ESP by volume id, not failing the boot without it", () => {
    const l = computeLayout(getTarget("amd64"));
    const fstab = renderFstab({ layout: l });
    expect(fstab).toMatch(/^UUID=e540e1e3-2796-4bf3-bc24-ac5305f3ac11\t\/\text4\t/m);
    expect(fstab).toMatch(/^UUID=F7EE-0001\t\/boot\/efi\tvfat\t\S*nofail/m);
  });

  it("patches GRUB's boot.img and core.img for a core image in the BIOS boot partition", () => {
    const boot = Buffer.alloc(512, 0x11);
    boot[0x66] = 0xeb;
    boot[0x67] = 0x05;
    const mbr = Buffer.alloc(512);
    mbr.fill(0x22, 0x1b8, 0x1fe);
    mbr.writeUInt16LE(0xaa55, 0x1fe);
    const core = Buffer.alloc(512 * 60, 0x33);
    core.writeBigUInt64LE(2n, 512 - 12);
    core.writeUInt16LE(59, 512 - 4);
    const out = patchGrubBios(boot, core, mbr, 2048);
    expect(out.mbr.readBigUInt64LE(0x5c)).toBe(2048n);
    expect(out.mbr[0x64]).toBe(0xff);
    expect([out.mbr[0x66], out.mbr[0x67]]).toEqual([0x90, 0x90]);
    expect(out.mbr.subarray(0x1b8, 0x200).equals(mbr.subarray(0x1b8, 0x200))).toBe(true);
    expect(out.core.readBigUInt64LE(512 - 12)).toBe(2049n);
    expect(out.core.readUInt16LE(512 - 4)).toBe(59);
    // a core.img whose blocklist does not match its size is refused
    core.writeUInt16LE(10, 512 - 4);
    expect(() => patchGrubBios(boot, core, mbr, 2048)).toThrow(/blocklist/);
  });
});
