import type { HardwareProfile } from "../../_schemas/hardware";
import type { Energy } from "../../_schemas/recommend";
import { cpuClassOf, DISK_WATTS, gpuClassOf } from "./calibration";

const HOURS_PER_MONTH = 730;

export interface EnergyLoad {
  item: string;
  /** Share of the whole CPU busy on average (0..1). */
  cpuLoad: number;
  /** Share of the time the GPUs are busy (0..1). */
  gpuLoad: number;
  miner?: boolean;
}

/**
 * Power of the box: idle draw of the device class, GPUs and disks, plus each chosen item's average
 * share of the class's (loaded − idle) draw. Every watt ends up as heat in the room; for a CPU miner
 * that heat is the point, so it is reported on its own.
 */
export function estimateEnergy(profile: HardwareProfile, loads: EnergyLoad[], priceKwh: number): Energy {
  const cpu = cpuClassOf(profile);
  // Integrated GPUs (no memory of their own) are part of the device class's figures.
  const gpus = profile.gpus.filter((g) => g.vramBytes !== null).map((g) => ({ gpu: g, cls: gpuClassOf(g) }));
  const diskWatts = profile.disks.reduce((sum, d) => sum + DISK_WATTS[d.kind], 0);
  const gpuIdle = gpus.reduce((s, g) => s + g.cls.idleWatts, 0);
  const gpuLoad = gpus.reduce((s, g) => s + g.cls.loadWatts, 0);
  const idleWatts = cpu.idleWatts + gpuIdle + diskWatts;
  const loadedWatts = cpu.loadWatts + gpuLoad + diskWatts;

  const breakdown: Energy["breakdown"] = [{ item: `idle (${cpu.label})`, watts: round(cpu.idleWatts) }];
  if (gpus.length > 0) breakdown.push({ item: "GPUs idle", watts: round(gpuIdle) });
  if (diskWatts > 0) breakdown.push({ item: "disks", watts: round(diskWatts) });
  let cpuShare = 0;
  let miningHeatWatts: number | null = null;
  let average = idleWatts;
  for (const load of loads) {
    // The CPU cannot be busier than fully busy.
    const cpuPart = Math.min(load.cpuLoad, Math.max(0, 1 - cpuShare));
    cpuShare += cpuPart;
    const watts = cpuPart * (cpu.loadWatts - cpu.idleWatts) + load.gpuLoad * (gpuLoad - gpuIdle);
    average += watts;
    breakdown.push({ item: load.item, watts: round(watts) });
    if (load.miner) miningHeatWatts = round(watts);
  }
  const monthlyKwh = (average * HOURS_PER_MONTH) / 1000;
  const note =
    miningHeatWatts === null
      ? `Estimated from the ${cpu.label} class (${cpu.basis.split(";").pop()?.trim()}).`
      : `CPU mining turns all of its ${miningHeatWatts} W into heat: it heats the room like a ${miningHeatWatts} W electric heater would.`;
  return {
    deviceClass: cpu.id,
    idleWatts: round(idleWatts),
    loadedWatts: round(loadedWatts),
    averageWatts: round(average),
    monthlyKwh: round(monthlyKwh),
    priceKwh,
    monthlyCost: round(monthlyKwh * priceKwh),
    breakdown,
    miningHeatWatts,
    note,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
