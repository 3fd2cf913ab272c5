import { execFile } from "node:child_process";
import { promisify } from "node:util";
import si from "systeminformation";
import { type HardwareProfile, HardwareProfileSchema } from "../../_schemas/hardware";
import { disksFromLsblk, LSBLK_ARGS } from "./disks";

const run = promisify(execFile);

const INTERESTING_FLAGS = ["aes", "avx", "avx2", "avx512f", "asimd", "asimddp", "i8mm", "sve"];

async function detectDisks(): Promise<HardwareProfile["disks"]> {
  try {
    const { stdout } = await run("lsblk", LSBLK_ARGS, { timeout: 5000 });
    return disksFromLsblk(JSON.parse(stdout));
  } catch {
    return [];
  }
}

function archOf(nodeArch: string): HardwareProfile["arch"] {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "arm64") return "arm64";
  throw new Error(`Unsupported architecture ${nodeArch}: Freehold runs on amd64 and arm64.`);
}

/** This machine's hardware profile. Reads only; never changes the host. */
export async function detectHardware(): Promise<HardwareProfile> {
  const [cpu, flags, mem, disks] = await Promise.all([si.cpu(), si.cpuFlags(), si.mem(), detectDisks()]);
  const flagSet = new Set(flags.split(/\s+/));
  return HardwareProfileSchema.parse({
    arch: archOf(process.arch),
    board: null,
    cpu: {
      model: [cpu.manufacturer, cpu.brand].filter(Boolean).join(" ").trim() || null,
      cores: cpu.physicalCores || cpu.cores,
      threads: cpu.cores,
      mhz: cpu.speedMax ? Math.round(cpu.speedMax * 1000) : cpu.speed ? Math.round(cpu.speed * 1000) : null,
      flags: INTERESTING_FLAGS.filter((f) => flagSet.has(f)),
    },
    memory: { totalBytes: mem.total },
    gpus: [],
    disks,
    tpm: false,
  });
}
