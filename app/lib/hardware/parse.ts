import { z } from "zod";
import type { Board, Gpu } from "../../_schemas/hardware";

/**
 * Pure parsers for what the kernel and the tools print; each is unit-tested with captured text
 * (test/unit/hardware/parse.test.ts). None of them runs anything.
 */

/** Control characters out, whitespace collapsed: firmware strings end up on terminals and pages. */
export function cleanText(text: string, max = 200): string {
  return text
    .replace(/\p{Cc}+/gu, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, max);
}

/** DMI placeholders that mean "unknown". */
const PLACEHOLDER =
  /^(to be filled by o\.?e\.?m\.?|default string|system product name|system manufacturer|not applicable|none|o\.e\.m\.?|unknown|n\/a|x\.x|0+|123456789)$/i;

function known(value: string | null | undefined): string | null {
  if (!value) return null;
  const clean = cleanText(value);
  return clean === "" || PLACEHOLDER.test(clean) ? null : clean;
}

/**
 * /proc/device-tree/model ("Raspberry Pi 4 Model B Rev 1.4\0") and, for the vendor of boards that
 * are not Raspberry Pis, the first entry of /proc/device-tree/compatible ("radxa,rock-5b\0rockchip,rk3588\0").
 */
export function boardFromDeviceTree(modelText: string, compatibleText = ""): Board | null {
  const raw = known(modelText.split("\0")[0]);
  if (!raw) return null;
  const rev = /\s+Rev\s+([0-9A-Za-z.]+)$/.exec(raw);
  const model = rev ? raw.slice(0, rev.index) : raw;
  if (/^Raspberry Pi\b/.test(model)) return { vendor: "Raspberry Pi", model, revision: rev?.[1] ?? null };
  const vendor = known(compatibleText.split("\0")[0]?.split(",")[0]);
  return { vendor, model, revision: rev?.[1] ?? null };
}

/** DMI (x86): /sys/class/dmi/id/{sys_vendor,product_name,product_version}, falling back to board_*. */
export function boardFromDmi(dmi: {
  sysVendor?: string;
  productName?: string;
  productVersion?: string;
  boardVendor?: string;
  boardName?: string;
}): Board | null {
  const product = known(dmi.productName);
  const boardName = known(dmi.boardName);
  if (product) return { vendor: known(dmi.sysVendor), model: product, revision: known(dmi.productVersion) };
  if (boardName) return { vendor: known(dmi.boardVendor), model: boardName, revision: null };
  return null;
}

/** The CPU features we care about, from /proc/cpuinfo's `flags` (x86) or `Features` (arm64) line. */
export const INTERESTING_FLAGS = [
  "aes",
  "avx",
  "avx2",
  "avx512f",
  "asimd",
  "asimddp",
  "i8mm",
  "sve",
] as const;

export function cpuFlagsFromCpuinfo(cpuinfo: string): string[] {
  const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "";
  const present = new Set(line.trim().split(/\s+/));
  return INTERESTING_FLAGS.filter((f) => present.has(f));
}

/**
 * A clock rate we believe: virtual machines (QEMU TCG on a busy host) calibrate their clock
 * against a timer and can report any number; outside 100 MHz to 10 GHz it is unknown, not a fact.
 */
export function plausibleMhz(mhz: number | null): number | null {
  return mhz !== null && Number.isFinite(mhz) && mhz >= 100 && mhz <= 10_000 ? Math.round(mhz) : null;
}

/** /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq is in kHz. */
export function mhzFromCpufreq(text: string): number | null {
  const khz = Number(text.trim());
  return Number.isFinite(khz) && khz > 0 ? Math.round(khz / 1000) : null;
}

/** `nvidia-smi --query-gpu=name,memory.total,pci.device_id --format=csv,noheader,nounits` */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=name,memory.total,pci.device_id",
  "--format=csv,noheader,nounits",
];

const NvidiaRow = z.tuple([z.string().min(1), z.string(), z.string()]);

export function gpusFromNvidiaSmi(csv: string): Gpu[] {
  return csv
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, memory, deviceId] = NvidiaRow.parse(line.split(",").map((s) => s.trim()));
      const mib = Number(memory);
      // pci.device_id is "0x250410DE": device in the high half, vendor in the low half.
      const id = /^0x([0-9a-f]{4})([0-9a-f]{4})$/i.exec(deviceId);
      return {
        vendor: "nvidia",
        model: cleanText(name),
        vramBytes: Number.isFinite(mib) && mib > 0 ? mib * 1024 * 1024 : null,
        pciId: id ? `${id[2]?.toLowerCase()}:${id[1]?.toLowerCase()}` : null,
        source: "nvidia-smi" as const,
        memoryBandwidthBytesPerSecond: null,
      };
    });
}

const PCI_VENDORS: Record<string, string> = {
  "0x10de": "nvidia",
  "0x1002": "amd",
  "0x8086": "intel",
  "0x14e4": "broadcom",
};

/** One /sys/class/drm/cardN: the files read from its device/ directory (undefined when absent). */
export interface DrmCard {
  card: string;
  vendor?: string;
  device?: string;
  /** amdgpu only: dedicated VRAM in bytes. */
  memInfoVramTotal?: string;
  /** The driver's name (the basename of device/driver), e.g. "amdgpu", "i915", "xe", "v3d", "vc4". */
  driver?: string;
}

export function gpuFromDrm(card: DrmCard): Gpu | null {
  const vendorId = card.vendor?.trim().toLowerCase();
  const deviceId = card.device?.trim().toLowerCase();
  if (!vendorId) {
    // Platform GPUs (Raspberry Pi's VideoCore: v3d/vc4) have no PCI ids.
    if (card.driver === "v3d")
      return {
        vendor: "broadcom",
        model: "VideoCore (v3d)",
        vramBytes: null,
        pciId: null,
        source: "drm",
        memoryBandwidthBytesPerSecond: null,
      };
    return null;
  }
  const vendor = PCI_VENDORS[vendorId] ?? vendorId.replace(/^0x/, "");
  const vram = card.memInfoVramTotal ? Number(card.memInfoVramTotal.trim()) : Number.NaN;
  const pciId =
    /^0x[0-9a-f]{4}$/.test(vendorId) && deviceId && /^0x[0-9a-f]{4}$/.test(deviceId)
      ? `${vendorId.slice(2)}:${deviceId.slice(2)}`
      : null;
  return {
    vendor,
    model: null,
    vramBytes: Number.isFinite(vram) && vram > 0 ? vram : null,
    pciId,
    source: "drm",
    memoryBandwidthBytesPerSecond: null,
  };
}

/** nvidia-smi's view wins for NVIDIA cards; drm adds the others. Cards of one PCI device appear once. */
export function mergeGpus(fromNvidia: Gpu[], fromDrm: Gpu[]): Gpu[] {
  const others = fromDrm.filter((g) => !(fromNvidia.length > 0 && g.vendor === "nvidia"));
  return [...fromNvidia, ...others];
}
