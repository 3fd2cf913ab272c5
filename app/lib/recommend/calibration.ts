import type { Gpu, HardwareProfile } from "../../_schemas/hardware";

/**
 * THE calibration table: effective memory bandwidth (what llama.cpp decoding really achieves:
 * tokens/s × bytes read per token, from the reference points of llm-sizing.md) and power draw per
 * device class. Everything that estimates speed or energy reads these figures and nothing else.
 */

const GBps = 1e9;

export interface CpuClass {
  id: string;
  label: string;
  /** Matched against the board model (device tree / DMI), then the CPU model. */
  board?: RegExp;
  cpu?: RegExp;
  arch?: HardwareProfile["arch"];
  /** Effective decode bandwidth of system memory, bytes/s. */
  bandwidth: number;
  /** Wall power of the whole box without GPUs: idle, and all cores busy. */
  idleWatts: number;
  loadWatts: number;
  /** Where the figures come from. */
  basis: string;
}

export interface GpuClass {
  id: string;
  label: string;
  model: RegExp;
  bandwidth: number;
  idleWatts: number;
  loadWatts: number;
  basis: string;
}

/** First match wins; the last two entries are the fallbacks per architecture. */
export const CPU_CLASSES: readonly CpuClass[] = [
  {
    id: "rpi3",
    label: "Raspberry Pi 3",
    board: /Raspberry Pi 3/,
    bandwidth: 1.5 * GBps,
    idleWatts: 1.9,
    loadWatts: 5.1,
    basis: "bandwidth scaled from the Pi 4 (LPDDR2); power: raspberrypi.com Pi 3B+ figures",
  },
  {
    id: "rpi4",
    label: "Raspberry Pi 4",
    board: /Raspberry Pi (4|400|Compute Module 4)/,
    bandwidth: 3.2 * GBps,
    idleWatts: 3.0,
    loadWatts: 6.4,
    basis: "llama3.2:3b 1.6 t/s (llm-sizing.md); power: Pi 4B idle 2.7–3.4 W, stress 6.4 W",
  },
  {
    id: "rpi5",
    label: "Raspberry Pi 5",
    board: /Raspberry Pi (5|500|Compute Module 5)/,
    bandwidth: 10.5 * GBps,
    idleWatts: 3.0,
    loadWatts: 8.0,
    basis: "3B 4.6–4.9 t/s, 8B 2.2 t/s, 14B 1.2 t/s (llm-sizing.md); power: Pi 5 idle 2.7 W, stress 7–8 W",
  },
  {
    id: "intel-n",
    label: "Intel N-series mini PC (N100/N150/N200/N305)",
    cpu: /\b(N9[57]|N1[05]0|N2[05]0|N30[05]|N355)\b/,
    bandwidth: 18 * GBps,
    idleWatts: 7,
    loadWatts: 22,
    basis:
      "N150 3B 9.1 t/s, 14B 2.1 t/s (llm-sizing.md); power: N100 boxes idle 6–8 W, load 20–25 W at the wall",
  },
  {
    id: "ryzen-ai",
    label: "AMD Ryzen AI laptop/mini PC",
    cpu: /Ryzen AI/,
    bandwidth: 50 * GBps,
    idleWatts: 8,
    loadWatts: 45,
    basis: "Ryzen AI 5 340 3B 23.8 t/s, 14B 5.8 t/s (llm-sizing.md)",
  },
  {
    id: "server-x86",
    label: "x86 server (EPYC/Xeon)",
    cpu: /EPYC|Xeon|Threadripper/,
    bandwidth: 60 * GBps,
    idleWatts: 90,
    loadWatts: 250,
    basis:
      "multi-channel DDR4/DDR5, conservative (a few channels populated); power: 1U/2U single-socket servers",
  },
  {
    id: "desktop-ddr5",
    label: "x86 desktop, DDR5 generation",
    cpu: /\b(1[2-4]\d{3}[A-Z]*|Core\(TM\) Ultra|Core Ultra|Ryzen [3579] [79]\d{3}|Ryzen [3579] 9\d{3})\b/,
    bandwidth: 65 * GBps,
    idleWatts: 35,
    loadWatts: 180,
    basis: "i9-13900K DDR5-6400 7B Q4_0 18.3 t/s (llm-sizing.md)",
  },
  {
    id: "desktop-x86",
    label: "x86 desktop or mini PC",
    arch: "amd64",
    bandwidth: 30 * GBps,
    idleWatts: 25,
    loadWatts: 120,
    basis:
      "dual-channel DDR4, ~60% of the theoretical 51 GB/s; a measured bandwidth in the profile overrides it",
  },
  {
    id: "arm64-generic",
    label: "arm64 board",
    arch: "arm64",
    bandwidth: 5 * GBps,
    idleWatts: 4,
    loadWatts: 10,
    basis: "between the Pi 4 and the Pi 5; a measured bandwidth in the profile overrides it",
  },
];

export const GPU_CLASSES: readonly GpuClass[] = [
  {
    id: "rtx-3060",
    label: "RTX 3060",
    model: /RTX 3060\b(?! Ti)/,
    bandwidth: 250 * GBps,
    idleWatts: 13,
    loadWatts: 170,
    basis: "3B 123 t/s, 14B 29.8 t/s (llm-sizing.md); 360 GB/s spec; TDP 170 W",
  },
  {
    id: "rtx-3060-ti",
    label: "RTX 3060 Ti",
    model: /RTX 3060 Ti/,
    bandwidth: 310 * GBps,
    idleWatts: 14,
    loadWatts: 200,
    basis: "448 GB/s spec × 0.7",
  },
  {
    id: "rtx-3070",
    label: "RTX 3070",
    model: /RTX 3070/,
    bandwidth: 310 * GBps,
    idleWatts: 15,
    loadWatts: 220,
    basis: "448 GB/s spec × 0.7",
  },
  {
    id: "rtx-3080",
    label: "RTX 3080",
    model: /RTX 3080/,
    bandwidth: 530 * GBps,
    idleWatts: 20,
    loadWatts: 320,
    basis: "760 GB/s spec × 0.7",
  },
  {
    id: "rtx-3090",
    label: "RTX 3090",
    model: /RTX 3090/,
    bandwidth: 660 * GBps,
    idleWatts: 22,
    loadWatts: 350,
    basis: "936 GB/s spec × 0.7",
  },
  {
    id: "rtx-4060",
    label: "RTX 4060",
    model: /RTX 4060\b(?! Ti)/,
    bandwidth: 190 * GBps,
    idleWatts: 10,
    loadWatts: 115,
    basis: "272 GB/s spec × 0.7",
  },
  {
    id: "rtx-4060-ti",
    label: "RTX 4060 Ti",
    model: /RTX 4060 Ti/,
    bandwidth: 200 * GBps,
    idleWatts: 10,
    loadWatts: 160,
    basis: "288 GB/s spec × 0.7",
  },
  {
    id: "rtx-4070",
    label: "RTX 4070",
    model: /RTX 4070/,
    bandwidth: 350 * GBps,
    idleWatts: 12,
    loadWatts: 200,
    basis: "504 GB/s spec × 0.7",
  },
  {
    id: "rtx-4080",
    label: "RTX 4080",
    model: /RTX 4080/,
    bandwidth: 500 * GBps,
    idleWatts: 15,
    loadWatts: 320,
    basis: "717 GB/s spec × 0.7",
  },
  {
    id: "rtx-4090",
    label: "RTX 4090",
    model: /RTX 4090/,
    bandwidth: 750 * GBps,
    idleWatts: 22,
    loadWatts: 450,
    basis: "3B 335 t/s, 14B 92.5 t/s (llm-sizing.md)",
  },
  {
    id: "h100-pcie",
    label: "H100 PCIe",
    model: /H100 PCIe|H100$/,
    bandwidth: 710 * GBps,
    idleWatts: 50,
    loadWatts: 350,
    basis: "8B 144 t/s (llm-sizing.md)",
  },
  {
    id: "h100-sxm",
    label: "H100 SXM / H200",
    model: /H100 (80GB )?HBM3|H100 SXM|H200/,
    bandwidth: 1100 * GBps,
    idleWatts: 70,
    loadWatts: 700,
    basis: "3.35 TB/s spec; scaled from the H100 PCIe's measured efficiency",
  },
  {
    id: "a100",
    label: "A100",
    model: /A100/,
    bandwidth: 700 * GBps,
    idleWatts: 50,
    loadWatts: 300,
    basis: "1.9–2.0 TB/s spec, efficiency of the H100 PCIe",
  },
  {
    id: "l4",
    label: "L4",
    model: /\bL4\b/,
    bandwidth: 200 * GBps,
    idleWatts: 16,
    loadWatts: 72,
    basis: "300 GB/s spec × 0.7",
  },
  {
    id: "t4",
    label: "T4",
    model: /\bT4\b/,
    bandwidth: 200 * GBps,
    idleWatts: 10,
    loadWatts: 70,
    basis: "320 GB/s spec × 0.6",
  },
  {
    id: "rx-7900",
    label: "Radeon RX 7900",
    model: /RX 7900/,
    bandwidth: 560 * GBps,
    idleWatts: 20,
    loadWatts: 330,
    basis: "800–960 GB/s spec × 0.6 (ROCm/Vulkan)",
  },
];

/** A discrete GPU not in the table: assume a modest card rather than invent a fast one. */
export const UNKNOWN_GPU: GpuClass = {
  id: "gpu-unknown",
  label: "discrete GPU (unknown model)",
  model: /.*/,
  bandwidth: 150 * GBps,
  idleWatts: 15,
  loadWatts: 150,
  basis: "conservative: an entry-level card's effective bandwidth",
};

/** Per disk, for the energy estimate. */
export const DISK_WATTS = { sd: 0.2, usb: 1.5, sata: 1.5, nvme: 1.5, virtio: 0, other: 1.5 } as const;

export function cpuClassOf(profile: HardwareProfile): CpuClass {
  const board = profile.board?.model ?? "";
  const cpu = profile.cpu.model ?? "";
  const match =
    CPU_CLASSES.find((c) => c.board?.test(board)) ??
    CPU_CLASSES.find((c) => c.cpu?.test(cpu)) ??
    CPU_CLASSES.find((c) => !c.board && !c.cpu && c.arch === profile.arch);
  if (!match) throw new Error(`no calibration class for ${profile.arch}`);
  return match;
}

export function gpuClassOf(gpu: Gpu): GpuClass {
  return GPU_CLASSES.find((c) => c.model.test(gpu.model ?? "")) ?? UNKNOWN_GPU;
}

/** Bytes/s of system memory: a figure in the profile wins over the table. */
export function cpuBandwidth(profile: HardwareProfile): number {
  return profile.memory.bandwidthBytesPerSecond ?? cpuClassOf(profile).bandwidth;
}

export function gpuBandwidth(gpu: Gpu): number {
  return gpu.memoryBandwidthBytesPerSecond ?? gpuClassOf(gpu).bandwidth;
}
