import { z } from "zod";

/**
 * The hardware profile: what `freehold detect --json` prints and `freehold recommend --hardware`
 * reads. Unknown values are null, never invented. Fields added after DESIGN.md's list are optional
 * on input (they default to null) so that older profile files keep working.
 */

/** Text that is safe to print on a terminal or a page: no control characters, bounded length. */
const Text = z
  .string()
  .max(200, "at most 200 characters")
  .regex(/^[^\p{Cc}]*$/u, "no control characters");

const Bytes = z.number().int("a whole number of bytes").nonnegative();
/** Bytes per second of memory bandwidth: a measured or known figure, between 0.1 GB/s and 20 TB/s. */
const Bandwidth = z.number().min(1e8).max(2e13);

export const DiskKindSchema = z.enum(["sd", "usb", "sata", "nvme", "virtio", "other"]);

export const DiskSchema = z.strictObject({
  path: z.string().regex(/^\/dev\/[A-Za-z0-9/_-]+$/, "a /dev path"),
  model: Text.nullable(),
  sizeBytes: Bytes,
  kind: DiskKindSchema,
  removable: z.boolean(),
  /** Holds the running system's root filesystem. */
  system: z.boolean(),
});

export const GpuSchema = z.strictObject({
  /** "nvidia", "amd", "intel", "broadcom" or the PCI vendor id when the vendor is not one of those. */
  vendor: Text.min(1),
  model: Text.nullable(),
  /** Dedicated memory; null for integrated GPUs that share system RAM and when unknown. */
  vramBytes: Bytes.nullable(),
  /** PCI vendor:device id ("10de:2504"), null when the GPU is not on PCI or unknown. */
  pciId: z
    .string()
    .regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/, "a PCI id like 10de:2504")
    .nullable()
    .default(null),
  /** Where the figures came from. */
  source: z.enum(["nvidia-smi", "drm", "fixture"]).default("fixture"),
  /** A known or measured memory bandwidth; overrides the calibration table's figure. */
  memoryBandwidthBytesPerSecond: Bandwidth.nullable().default(null),
});

export const CpuSchema = z.strictObject({
  model: Text.nullable(),
  cores: z.number().int().positive().max(1024),
  threads: z.number().int().positive().max(4096),
  /** Maximum clock in MHz; null when neither cpufreq nor /proc/cpuinfo says. */
  mhz: z.number().positive().max(10_000).nullable(),
  /** Features that matter to us, a subset of aes, avx, avx2, avx512f, asimd, asimddp, i8mm, sve. */
  flags: z.array(Text),
});

export const BoardSchema = z.strictObject({
  /** Null when the firmware names no vendor. */
  vendor: Text.nullable(),
  model: Text,
  /** Board revision ("1.4" for "Raspberry Pi 4 Model B Rev 1.4"), null when unknown. */
  revision: Text.nullable().default(null),
});

export const MemorySchema = z.strictObject({
  totalBytes: Bytes.positive(),
  /** A known or measured bandwidth of system memory; overrides the calibration table's figure. */
  bandwidthBytesPerSecond: Bandwidth.nullable().default(null),
});

export const HardwareProfileSchema = z.strictObject({
  arch: z.enum(["amd64", "arm64"]),
  board: BoardSchema.nullable(),
  cpu: CpuSchema,
  memory: MemorySchema,
  gpus: z.array(GpuSchema).max(16),
  disks: z.array(DiskSchema).max(64),
  tpm: z.boolean(),
});

export type DiskKind = z.infer<typeof DiskKindSchema>;
export type Disk = z.infer<typeof DiskSchema>;
export type Gpu = z.infer<typeof GpuSchema>;
export type Board = z.infer<typeof BoardSchema>;
export type HardwareProfile = z.infer<typeof HardwareProfileSchema>;
export type HardwareProfileInput = z.input<typeof HardwareProfileSchema>;

/** One line per problem, each naming the field: `memory.totalBytes: expected number, received string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "(the whole document)";
      return `${where}: ${issue.message}`;
    })
    .join("\n");
}

export class InvalidProfileError extends Error {
  override name = "InvalidProfileError";
}

/** Parses a profile read from a file or a request; the error names every bad field. */
export function parseHardwareProfile(json: unknown, origin = "hardware profile"): HardwareProfile {
  const parsed = HardwareProfileSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidProfileError(`invalid ${origin}:\n${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
