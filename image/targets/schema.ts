/**
 * The one schema every image target is checked against. Targets are data: no logic lives in
 * image/targets/<name>.ts, only values this schema accepts.
 */
import { z } from "zod";

const guid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "lower-case GUID");
/** A Debian package name, optionally with /release (e.g. linux-image-arm64/trixie-backports). */
const debPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]+(\/[a-z0-9-]+)?$/, "Debian package name");

export const TargetName = z.enum(["amd64", "arm64", "rpi"]);
export type TargetName = z.infer<typeof TargetName>;

export const PartitionSchema = z
  .object({
    /** GPT partition name (PARTLABEL); also used as the filesystem label where the fs has one. */
    name: z.string().regex(/^[a-z0-9-]{1,36}$/),
    role: z.enum(["bios-boot", "esp", "firmware", "root"]),
    /** GPT type GUID, or an MBR type byte as two hex digits (e.g. "0c" for FAT32 LBA, "83" Linux). */
    type: z.union([guid, z.string().regex(/^[0-9a-f]{2}$/)]),
    /** GPT partition UUID (PARTUUID). MBR partitions get <disk id>-<nn> instead. */
    uuid: guid.optional(),
    sizeMiB: z.number().int().positive(),
    fs: z.enum(["none", "vfat", "ext4"]),
    /** ext4: filesystem UUID; vfat: volume id as 8 hex digits. */
    fsUuid: z.string().optional(),
    fsLabel: z.string().max(16).optional(),
    /** Where the running system mounts it ("" = not mounted). */
    mountPoint: z.string().default(""),
    bootable: z.boolean().default(false),
  })
  .superRefine((p, ctx) => {
    if (p.fs === "ext4" && !(p.fsUuid && guid.safeParse(p.fsUuid).success))
      ctx.addIssue({ code: "custom", message: `${p.name}: ext4 needs a fixed fsUuid (GUID)` });
    if (p.fs === "vfat" && !(p.fsUuid && /^[0-9A-F]{8}$/.test(p.fsUuid)))
      ctx.addIssue({ code: "custom", message: `${p.name}: vfat needs fsUuid as 8 upper-case hex digits` });
    if (p.fs === "vfat" && p.fsLabel && p.fsLabel.length > 11)
      ctx.addIssue({ code: "custom", message: `${p.name}: FAT labels are at most 11 characters` });
    if (p.role === "bios-boot" && p.fs !== "none")
      ctx.addIssue({ code: "custom", message: "the BIOS boot partition carries no filesystem" });
  });
export type Partition = z.infer<typeof PartitionSchema>;

const GrubBootloader = z.object({
  kind: z.literal("grub"),
  /** GRUB platforms to install: i386-pc (legacy BIOS), x86_64-efi, arm64-efi. */
  platforms: z.array(z.enum(["i386-pc", "x86_64-efi", "arm64-efi"])).min(1),
  /** Removable-media path of the EFI binary on the ESP. */
  efiPath: z
    .string()
    .regex(/^EFI\/BOOT\/BOOT(X64|AA64)\.EFI$/)
    .optional(),
  /** Modules built into the core image (the rest load from /boot/grub on the root fs). */
  modules: z.array(z.string().regex(/^[a-z0-9_]+$/)).min(1),
  timeoutSeconds: z.number().int().min(0).max(30),
});

const RpiBootloader = z.object({
  kind: z.literal("rpi-firmware"),
  /** Device trees copied onto the firmware partition (names as the firmware asks for them). */
  dtbs: z.array(z.string().regex(/^[a-z0-9-]+\.dtb$/)).min(1),
  /** Extra lines appended to config.txt (after raspi-firmware's generated ones). */
  configTxt: z.array(z.string()),
});

export const QemuProfile = z.object({
  binary: z.enum(["qemu-system-x86_64", "qemu-system-aarch64"]),
  machine: z.string(),
  cpu: z.string(),
  memoryMiB: z.number().int().min(256),
  /** UEFI firmware code and a template for its variable store; absent = boot with the default BIOS. */
  uefi: z.object({ code: z.string(), vars: z.string() }).optional(),
  /** Also boots with legacy BIOS (SeaBIOS). */
  bios: z.boolean(),
  serial: z.string(),
  /** false: the target cannot be emulated faithfully (Raspberry Pi); boot tests skip it. */
  emulated: z.boolean(),
});

export const TargetSchema = z
  .object({
    name: TargetName,
    description: z.string(),
    suite: z.literal("trixie"),
    arch: z.enum(["amd64", "arm64"]),
    mirror: z.url(),
    securityMirror: z.url(),
    components: z.array(z.enum(["main", "contrib", "non-free", "non-free-firmware"])).min(1),
    /** Add trixie-backports to the sources (and so allow pkg/trixie-backports below). */
    backports: z.boolean(),
    variant: z.enum(["minbase", "apt", "essential"]),
    packages: z.array(debPackage).min(1),
    overlays: z.array(z.enum(["common", "amd64", "arm64", "rpi"])).min(1),
    /** systemd units enabled in the image (systemctl --root enable). */
    units: z.array(z.string().regex(/^[A-Za-z0-9@._-]+\.(service|socket|timer|path|target)$/)).min(1),
    hostname: z.string().regex(/^[a-z0-9-]{1,63}$/),
    partitionTable: z.discriminatedUnion("type", [
      z.object({ type: z.literal("gpt"), diskId: guid }),
      z.object({ type: z.literal("dos"), diskId: z.string().regex(/^0x[0-9a-f]{8}$/) }),
    ]),
    /** Offset of the first partition (MiB); also the alignment of every partition. */
    firstLbaMiB: z.number().int().min(1),
    partitions: z.array(PartitionSchema).min(2),
    bootloader: z.discriminatedUnion("kind", [GrubBootloader, RpiBootloader]),
    kernelCmdline: z.array(z.string()),
    qemu: QemuProfile,
  })
  .superRefine((t, ctx) => {
    const roots = t.partitions.filter((p) => p.role === "root");
    if (roots.length !== 1) ctx.addIssue({ code: "custom", message: "exactly one root partition" });
    const isGpt = t.partitionTable.type === "gpt";
    for (const p of t.partitions) {
      if (isGpt && (!guid.safeParse(p.type).success || !p.uuid))
        ctx.addIssue({
          code: "custom",
          message: `${p.name}: GPT partitions need a type GUID and a fixed uuid`,
        });
      if (!isGpt && guid.safeParse(p.type).success)
        ctx.addIssue({ code: "custom", message: `${p.name}: MBR partitions take a type byte, not a GUID` });
    }
    if (!isGpt && t.partitions.length > 3)
      ctx.addIssue({ code: "custom", message: "MBR: leave a primary slot free for the data partition" });
    const uuids = t.partitions.flatMap((p) => [p.uuid, p.fsUuid]).filter(Boolean);
    if (new Set(uuids).size !== uuids.length)
      ctx.addIssue({ code: "custom", message: "UUIDs must be unique" });
    if (t.bootloader.kind === "grub") {
      const needBiosBoot = t.bootloader.platforms.includes("i386-pc");
      const hasBiosBoot = t.partitions.some((p) => p.role === "bios-boot");
      if (needBiosBoot !== hasBiosBoot)
        ctx.addIssue({ code: "custom", message: "i386-pc needs a BIOS boot partition and vice versa" });
      const efi = t.bootloader.platforms.some((p) => p.endsWith("-efi"));
      if (efi && !t.partitions.some((p) => p.role === "esp"))
        ctx.addIssue({ code: "custom", message: "EFI platforms need an ESP" });
      if (efi && !t.bootloader.efiPath)
        ctx.addIssue({ code: "custom", message: "EFI platforms need efiPath" });
      if (!isGpt) ctx.addIssue({ code: "custom", message: "grub targets use GPT" });
    } else if (!t.partitions.some((p) => p.role === "firmware")) {
      ctx.addIssue({ code: "custom", message: "the Raspberry Pi needs a firmware partition" });
    }
    const pkgs = t.packages.map((p) => p.split("/")[0]);
    if (new Set(pkgs).size !== pkgs.length) ctx.addIssue({ code: "custom", message: "duplicate package" });
    if (!t.backports && t.packages.some((p) => p.includes("/")))
      ctx.addIssue({ code: "custom", message: "pkg/release needs backports: true" });
  });

export type Target = z.infer<typeof TargetSchema>;
export type TargetInput = z.input<typeof TargetSchema>;
