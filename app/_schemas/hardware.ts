import { z } from "zod";

/** The hardware profile: what `freehold detect --json` prints. Unknown values are null, never invented. */

export const DiskKindSchema = z.enum(["sd", "usb", "sata", "nvme", "virtio", "other"]);

export const DiskSchema = z.strictObject({
  path: z.string().regex(/^\/dev\/[A-Za-z0-9/_-]+$/, "a /dev path"),
  model: z.string().nullable(),
  sizeBytes: z.number().int().nonnegative(),
  kind: DiskKindSchema,
  removable: z.boolean(),
  /** Holds the running system's root filesystem. */
  system: z.boolean(),
});

export const GpuSchema = z.strictObject({
  vendor: z.string().min(1),
  model: z.string().nullable(),
  vramBytes: z.number().int().nonnegative().nullable(),
});

export const CpuSchema = z.strictObject({
  model: z.string().nullable(),
  cores: z.number().int().positive(),
  threads: z.number().int().positive(),
  mhz: z.number().positive().nullable(),
  flags: z.array(z.string()),
});

export const HardwareProfileSchema = z.strictObject({
  arch: z.enum(["amd64", "arm64"]),
  board: z.strictObject({ vendor: z.string(), model: z.string() }).nullable(),
  cpu: CpuSchema,
  memory: z.strictObject({ totalBytes: z.number().int().positive() }),
  gpus: z.array(GpuSchema),
  disks: z.array(DiskSchema),
  tpm: z.boolean(),
});

export type DiskKind = z.infer<typeof DiskKindSchema>;
export type Disk = z.infer<typeof DiskSchema>;
export type Gpu = z.infer<typeof GpuSchema>;
export type HardwareProfile = z.infer<typeof HardwareProfileSchema>;
