import { execFile } from "node:child_process";
import { access, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
// Only the two parts used: systeminformation's index loads all of its ~20 modules, and the first
// page's render then loaded 441 files (4.8 MB) of JavaScript instead of 422 (4.3 MB); every one is
// compiled on the spot by the box's node (types: systeminformation-parts.d.ts).
import { cpu as siCpu } from "systeminformation/lib/cpu.js";
import { mem as siMem } from "systeminformation/lib/memory.js";
import { type Board, type Gpu, type HardwareProfile, HardwareProfileSchema } from "../../_schemas/hardware";
import { disksFromLsblk, LSBLK_ARGS } from "./disks";
import {
  boardFromDeviceTree,
  boardFromDmi,
  cleanText,
  cpuFlagsFromCpuinfo,
  type DrmCard,
  gpuFromDrm,
  gpusFromNvidiaSmi,
  mergeGpus,
  mhzFromCpufreq,
  NVIDIA_SMI_ARGS,
  plausibleMhz,
} from "./parse";

const run = promisify(execFile);

/** Where detection reads from; tests point it at a fake tree. */
export interface DetectSources {
  root: string;
}

const DEFAULT_SOURCES: DetectSources = { root: "/" };

async function read(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

async function detectDisks(): Promise<HardwareProfile["disks"]> {
  try {
    const { stdout } = await run("lsblk", LSBLK_ARGS, { timeout: 5000, maxBuffer: 4 * 1024 * 1024 });
    return disksFromLsblk(JSON.parse(stdout));
  } catch {
    return [];
  }
}

export async function detectBoard({ root }: DetectSources = DEFAULT_SOURCES): Promise<Board | null> {
  const model = await read(path.join(root, "proc/device-tree/model"));
  if (model !== undefined) {
    return boardFromDeviceTree(model, (await read(path.join(root, "proc/device-tree/compatible"))) ?? "");
  }
  const dmi = path.join(root, "sys/class/dmi/id");
  const [sysVendor, productName, productVersion, boardVendor, boardName] = await Promise.all(
    ["sys_vendor", "product_name", "product_version", "board_vendor", "board_name"].map((f) =>
      read(path.join(dmi, f)),
    ),
  );
  return boardFromDmi({ sysVendor, productName, productVersion, boardVendor, boardName });
}

async function nvidiaGpus(): Promise<Gpu[]> {
  try {
    const { stdout } = await run("nvidia-smi", NVIDIA_SMI_ARGS, { timeout: 5000 });
    return gpusFromNvidiaSmi(stdout);
  } catch {
    // Not installed, no driver loaded, or it timed out: the drm view still lists the card.
    return [];
  }
}

export async function drmCards({ root }: DetectSources = DEFAULT_SOURCES): Promise<DrmCard[]> {
  const base = path.join(root, "sys/class/drm");
  const names = await readdir(base).catch(() => [] as string[]);
  return Promise.all(
    names
      .filter((n) => /^card\d+$/.test(n))
      .sort()
      .map(async (card) => {
        const dev = path.join(base, card, "device");
        const driver = await readlink(path.join(dev, "driver")).catch(() => undefined);
        return {
          card,
          vendor: await read(path.join(dev, "vendor")),
          device: await read(path.join(dev, "device")),
          memInfoVramTotal: await read(path.join(dev, "mem_info_vram_total")),
          driver: driver ? path.basename(driver) : undefined,
        };
      }),
  );
}

export async function detectGpus(sources: DetectSources = DEFAULT_SOURCES): Promise<Gpu[]> {
  const [nvidia, cards] = await Promise.all([nvidiaGpus(), drmCards(sources)]);
  const drm = cards.map(gpuFromDrm).filter((g): g is Gpu => g !== null);
  // One PCI device can have several drm cards (render nodes are separate; cardN are not), but be safe.
  const seen = new Set<string>();
  const unique = drm.filter((g) => {
    if (!g.pciId) return true;
    const key = `${g.pciId}:${g.vramBytes}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return mergeGpus(nvidia, unique);
}

function archOf(nodeArch: string): HardwareProfile["arch"] {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "arm64") return "arm64";
  throw new Error(`Unsupported architecture ${nodeArch}: Freehold runs on amd64 and arm64.`);
}

/** A TPM 2.0 the kernel's resource manager serves (what systemd-cryptenroll uses). */
export function hasTpm2(): Promise<boolean> {
  return access("/dev/tpmrm0").then(
    () => true,
    () => false,
  );
}

/** This machine's hardware profile. Reads only; never changes the host. */
export async function detectHardware(): Promise<HardwareProfile> {
  const [cpu, mem, cpuinfo, maxFreq, board, gpus, disks, tpm] = await Promise.all([
    siCpu(),
    siMem(),
    read("/proc/cpuinfo"),
    read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"),
    detectBoard(),
    detectGpus(),
    detectDisks(),
    hasTpm2(),
  ]);
  const siMhz = cpu.speedMax || cpu.speed;
  const model = cleanText([cpu.manufacturer, cpu.brand].filter(Boolean).join(" "));
  return HardwareProfileSchema.parse({
    arch: archOf(process.arch),
    board,
    cpu: {
      model: model || null,
      cores: cpu.physicalCores || cpu.cores,
      threads: cpu.cores,
      mhz: plausibleMhz(
        (maxFreq ? mhzFromCpufreq(maxFreq) : null) ?? (siMhz ? Math.round(siMhz * 1000) : null),
      ),
      flags: cpuinfo ? cpuFlagsFromCpuinfo(cpuinfo) : [],
    },
    memory: { totalBytes: mem.total, bandwidthBytesPerSecond: null },
    gpus,
    disks,
    tpm,
  });
}
