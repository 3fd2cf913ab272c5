import type { CatalogNode, NodeMode, Quant } from "../../_schemas/catalog";
import type { Disk, HardwareProfile } from "../../_schemas/hardware";
import {
  type Fit,
  type ModelRecommendation,
  type NodeRecommendation,
  type Recommendation,
  type RecommendOptionsInput,
  RecommendOptionsSchema,
} from "../../_schemas/recommend";
import { catalogNodes } from "../catalog/local";
import { MODELS, modelById } from "../catalog/models";
import { formatBytes } from "../format";
import { cpuBandwidth, cpuClassOf, gpuBandwidth } from "./calibration";
import { type EnergyLoad, estimateEnergy } from "./energy";
import {
  bytesPerToken,
  chooseModel,
  DEFAULT_CONTEXT,
  FIT_RANK,
  GPU_RESERVE_BYTES,
  type Pool,
  weightsBytes,
} from "./llm";

/** Debian, freehold-web (Next.js) and freehold-agent, with some page cache to breathe. */
export const SYSTEM_RESERVE_BYTES = 0.9e9;
/** The image's fixed root partition; the rest of the system disk becomes the data partition. */
export const ROOT_PARTITION_BYTES = 16e9;
/** Filesystem metadata and the 5% ext4 keeps for root. */
const FILESYSTEM_SHARE = 0.95;
/** GPUs Ollama can use, and only with enough memory of their own to be worth it. */
const GPU_VENDORS = new Set(["nvidia", "amd"]);
const MIN_GPU_BYTES = 2 * 1024 ** 3;

export class RecommendInputError extends Error {
  override name = "RecommendInputError";
}

const DISK_RANK: Record<Disk["kind"], number> = { nvme: 5, sata: 4, virtio: 4, usb: 3, other: 2, sd: 1 };

/** The disk that will hold the nodes' data: the best kind, then the biggest. */
export function dataDisk(profile: HardwareProfile): { disk: Disk; usableBytes: number } | null {
  const ranked = profile.disks
    .filter((d) => d.sizeBytes > 0)
    .sort((a, b) => DISK_RANK[b.kind] - DISK_RANK[a.kind] || b.sizeBytes - a.sizeBytes);
  const disk = ranked[0];
  if (!disk) return null;
  const usable = Math.max(0, (disk.sizeBytes - (disk.system ? ROOT_PARTITION_BYTES : 0)) * FILESYSTEM_SHARE);
  return { disk, usableBytes: Math.floor(usable) };
}

const gb = formatBytes;

function minFit(a: Fit, b: Fit): Fit {
  return FIT_RANK[a] <= FIT_RANK[b] ? a : b;
}

interface NodePool {
  ram: number;
  disk: number;
  diskKind: Disk["kind"] | null;
  diskPath: string | null;
}

interface Context {
  profile: HardwareProfile;
  /** Chosen nodes already placed, with their mode. */
  placed: Map<string, string>;
  /** The nodes on offer: built-in and local (catalogNodes()). */
  catalog: readonly CatalogNode[];
  /** Names for "… free after the system and Bitcoin Core". */
  after: string[];
  /** Chosen nodes that do not fit (their dependents cannot run either). */
  failed: Set<string>;
}

interface Verdict {
  fit: Fit;
  mode: NodeMode;
  reason: string;
  /** With the dependencies it would bring along. */
  ram: number;
  disk: number;
}

function afterText(ctx: Context, extra: string[] = []): string {
  const names = [...ctx.after, ...extra];
  if (names.length === 0) return "after the system";
  if (names.length === 1) return `after the system and ${names[0]}`;
  return `after the system, ${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function modeVerdict(node: CatalogNode, mode: NodeMode, pool: NodePool, ctx: Context): Verdict {
  const { profile } = ctx;
  const needs = mode.needs;
  const base = { mode, ram: needs.ramBytes, disk: needs.diskBytes };
  const modeName = node.modes.length > 1 ? ` (${mode.id})` : "";
  if (!node.architectures.includes(profile.arch)) {
    return { ...base, fit: "unsuitable", reason: `not available for ${profile.arch}` };
  }
  const missing = needs.cpuFlags.filter((f) => !profile.cpu.flags.includes(f));
  if (missing.length > 0) {
    const why = missing.includes("aes") ? ": without them RandomX is too slow to be worth its power" : "";
    return {
      ...base,
      fit: "unsuitable",
      reason: `needs the CPU's ${missing.join(", ")} instructions, which this CPU lacks${why}`,
    };
  }
  if (needs.ramBytes > pool.ram) {
    return {
      ...base,
      fit: "unsuitable",
      reason: `needs ${gb(needs.ramBytes)} of memory${modeName}, ${gb(Math.max(0, pool.ram))} free ${afterText(ctx)}`,
    };
  }
  if (pool.diskPath === null) return { ...base, fit: "unsuitable", reason: "no disk to keep its data on" };
  if (needs.diskBytes > pool.disk) {
    return {
      ...base,
      fit: "unsuitable",
      reason: `needs ${gb(needs.diskBytes)} of disk${modeName}, ${gb(Math.max(0, pool.disk))} free on ${pool.diskPath}`,
    };
  }
  const cautions: string[] = [];
  if (needs.diskBytes + needs.diskGrowthBytesPerYear > pool.disk) {
    cautions.push(
      `the disk fills within a year (${gb(needs.diskBytes)} now, +${gb(needs.diskGrowthBytesPerYear)} a year)`,
    );
  }
  if (needs.wantsSsd && pool.diskKind === "sd") {
    cautions.push("its constant writes would wear out the SD card: attach a USB SSD");
  }
  if (needs.cpuCores > profile.cpu.cores)
    cautions.push(`wants ${needs.cpuCores} cores, this CPU has ${profile.cpu.cores}`);
  if (needs.ramBytes > 0.75 * pool.ram) {
    cautions.push(`leaves little memory for anything else (${gb(needs.ramBytes)} of ${gb(pool.ram)} free)`);
  }
  if (node.heavy && needs.ramBytes > 0.25 * profile.memory.totalBytes) {
    cautions.push(`heavy: takes ${gb(needs.ramBytes)} of this box's ${gb(profile.memory.totalBytes)}`);
  }
  if (cautions.length > 0) return { ...base, fit: "possible", reason: cautions.join("; ") };
  return {
    ...base,
    fit: "recommended",
    reason: `${mode.summary}; uses ${gb(needs.ramBytes)} of memory and ${gb(needs.diskBytes)} of disk`,
  };
}

/** The best mode of a node in the pool, counting the dependencies that are not placed yet. */
/**
 * `smallest` picks, among the modes at the best fit, the one that needs least (for dependencies
 * and for chosen nodes whose mode the owner left open): the budget then never grows with the
 * hardware, so more hardware never leaves less room for the rest.
 */
function evaluateNode(
  node: CatalogNode,
  pool: NodePool,
  ctx: Context,
  allowed?: string[],
  smallest = false,
  depth = 0,
): Verdict {
  const verdicts: Verdict[] = [];
  for (const mode of node.modes) {
    if (allowed && !allowed.includes(mode.id)) continue;
    let depRam = 0;
    let depDisk = 0;
    let depFit: Fit = "recommended";
    const depNames: string[] = [];
    let problem: string | null = null;
    for (const dep of node.dependsOn) {
      const target = ctx.catalog.find((n) => n.id === dep.node);
      if (!target) continue;
      const placedMode = ctx.placed.get(dep.node);
      if (ctx.failed.has(dep.node)) {
        problem ??= `needs ${target.name}, which does not fit here`;
        continue;
      }
      if (placedMode !== undefined) {
        if (dep.modes && !dep.modes.includes(placedMode)) {
          problem ??= `needs ${target.name} in ${dep.modes.join(" or ")} mode, which is set to ${placedMode}`;
        }
        continue;
      }
      if (depth > 4) continue;
      const remaining = { ...pool, ram: pool.ram - depRam, disk: pool.disk - depDisk };
      const v = evaluateNode(target, remaining, ctx, dep.modes, true, depth + 1);
      if (v.fit === "unsuitable") {
        problem ??= `needs ${target.name}${dep.modes ? ` (${dep.modes.join(" or ")})` : ""}, which does not fit: ${v.reason}`;
        continue;
      }
      depRam += v.ram;
      depDisk += v.disk;
      depFit = minFit(depFit, v.fit);
      depNames.push(target.name);
    }
    const own = modeVerdict(
      node,
      mode,
      { ...pool, ram: pool.ram - depRam, disk: pool.disk - depDisk },
      { ...ctx, after: [...ctx.after, ...depNames] },
    );
    const fit = problem ? "unsuitable" : minFit(own.fit, depFit);
    let reason = problem ?? own.reason;
    if (!problem && depNames.length > 0 && own.fit !== "unsuitable")
      reason += ` (with ${depNames.join(" and ")}: ${gb(own.ram + depRam)} of memory in all)`;
    verdicts.push({ fit, mode, reason, ram: own.ram + depRam, disk: own.disk + depDisk });
  }
  const fallback = node.modes[0];
  if (verdicts.length === 0 && fallback) {
    const wanted = allowed?.length ? allowed.join(" or ") : "no mode";
    return {
      fit: "unsuitable",
      mode: fallback,
      reason: `the modes asked for conflict (${wanted}): a node that needs it requires another mode`,
      ram: fallback.needs.ramBytes,
      disk: fallback.needs.diskBytes,
    };
  }
  const top = Math.max(...verdicts.map((v) => FIT_RANK[v.fit]));
  const atTop = verdicts.filter((v) => FIT_RANK[v.fit] === top);
  const best = top === 0 || smallest ? atTop[atTop.length - 1] : atTop[0];
  if (!best) throw new Error(`${node.id}: no mode allowed`);
  const first = verdicts[0];
  if (first && best !== first && top > 0 && FIT_RANK[first.fit] < top) {
    return { ...best, reason: `${best.mode.id}, because ${first.mode.id} ${first.reason}; ${best.reason}` };
  }
  return best;
}

function parseChosenModels(ids: string[]): { id: string; quant: Quant | null }[] {
  return ids.map((spec) => {
    const [id = "", quant] = spec.split(":");
    const model = modelById(id);
    if (!model)
      throw new RecommendInputError(`unknown model '${id}' (known: ${MODELS.map((m) => m.id).join(", ")})`);
    if (quant && !model.quants.some((q) => q.quant === quant)) {
      throw new RecommendInputError(
        `model '${id}' has no quantization ${quant} (offered: ${model.quants.map((q) => q.quant).join(", ")})`,
      );
    }
    return { id, quant: (quant as Quant | undefined) ?? null };
  });
}

/** Chosen nodes and their dependencies, dependencies first, with the modes dependents allow. */
interface ChosenNode {
  node: CatalogNode;
  allowed?: string[];
  addedFor?: string;
  /** The owner named the mode ("bitcoin-core:full"). */
  explicit: boolean;
}

function expandChosen(specs: string[], catalog: readonly CatalogNode[]): ChosenNode[] {
  const order: ChosenNode[] = [];
  const visit = (spec: string, addedFor?: string, allowedByDependent?: string[], trail: string[] = []) => {
    const [id = "", mode] = spec.split(":");
    const node = catalog.find((n) => n.id === id);
    if (!node)
      throw new RecommendInputError(`unknown node '${id}' (known: ${catalog.map((n) => n.id).join(", ")})`);
    if (mode && !node.modes.some((m) => m.id === mode)) {
      throw new RecommendInputError(
        `node '${id}' has no mode '${mode}' (modes: ${node.modes.map((m) => m.id).join(", ")})`,
      );
    }
    const allowed = mode ? [mode] : allowedByDependent;
    if (trail.includes(id)) return;
    for (const dep of node.dependsOn) visit(dep.node, node.name, dep.modes, [...trail, id]);
    const existing = order.find((o) => o.node.id === id);
    if (existing) {
      if (allowed)
        existing.allowed = existing.allowed ? existing.allowed.filter((m) => allowed.includes(m)) : allowed;
      if (!addedFor) existing.addedFor = undefined;
      if (mode) existing.explicit = true;
      return;
    }
    order.push({ node, allowed, addedFor, explicit: Boolean(mode) });
  };
  for (const spec of specs) visit(spec);
  // A later dependent's constraint must reach a node placed earlier: re-apply constraints.
  for (const o of order) {
    for (const dep of o.node.dependsOn) {
      const target = order.find((t) => t.node.id === dep.node);
      if (target && dep.modes)
        target.allowed = (target.allowed ?? dep.modes).filter((m) => dep.modes?.includes(m));
    }
  }
  return order;
}

/** Recommendations for a hardware profile, budgeted together with the chosen nodes and models. */
export function recommend(
  profile: HardwareProfile,
  input: RecommendOptionsInput = {},
  catalog: readonly CatalogNode[] = catalogNodes(),
): Recommendation {
  const parsed = RecommendOptionsSchema.safeParse(input);
  if (!parsed.success)
    throw new RecommendInputError(
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  const options = parsed.data;
  const chosenModels = parseChosenModels(options.models);
  const chosenIds = [...options.nodes];
  if (chosenModels.length > 0 && !chosenIds.some((id) => id.split(":")[0] === "ollama"))
    chosenIds.push("ollama");
  const chosen = expandChosen(chosenIds, catalog);

  const cpuClass = cpuClassOf(profile);
  const data = dataDisk(profile);
  const pool: NodePool = {
    ram: profile.memory.totalBytes - SYSTEM_RESERVE_BYTES,
    disk: data?.usableBytes ?? 0,
    diskKind: data?.disk.kind ?? null,
    diskPath: data?.disk.path ?? null,
  };
  const ctx: Context = { profile, placed: new Map(), after: [], failed: new Set(), catalog };
  const energyLoads: EnergyLoad[] = [];

  const nodeResults = new Map<string, NodeRecommendation>();
  let nodesMemory = 0;
  let nodesDisk = 0;
  for (const { node, allowed, addedFor, explicit } of chosen) {
    // Dependencies are all placed before their dependents, so v.ram is the node's own need.
    const v = evaluateNode(node, pool, ctx, allowed, !explicit);
    const prefix = addedFor ? `added for ${addedFor}` : "chosen";
    const hint =
      !explicit && v.fit !== "unsuitable" && v.mode.id !== node.modes[0]?.id
        ? `; choose ${node.id}:${node.modes[0]?.id} instead if you want it (${node.modes[0]?.summary})`
        : "";
    nodeResults.set(node.id, toNodeRecommendation(node, v, true, `${prefix}: ${v.reason}${hint}`));
    // A chosen node keeps its place in the budget even when it does not fit: the owner asked for it,
    // and what is left for the rest must not grow back when it does fit on better hardware.
    if (v.fit === "unsuitable") ctx.failed.add(node.id);
    pool.ram -= v.mode.needs.ramBytes;
    pool.disk -= v.mode.needs.diskBytes;
    nodesMemory += v.mode.needs.ramBytes;
    nodesDisk += v.mode.needs.diskBytes;
    if (v.fit === "unsuitable") continue;
    ctx.placed.set(node.id, v.mode.id);
    ctx.after.push(node.name);
    energyLoads.push({
      item: node.name,
      cpuLoad: v.mode.needs.averageCpuLoad,
      gpuLoad: 0,
      miner: node.id === "p2pool-xmrig",
    });
  }
  for (const node of catalog) {
    if (nodeResults.has(node.id)) continue;
    nodeResults.set(node.id, toNodeRecommendation(node, evaluateNode(node, pool, ctx), false));
  }

  // Models share what the nodes left, and need Ollama's own memory if it is not chosen yet.
  const usableGpus = profile.gpus.filter(
    (g) => GPU_VENDORS.has(g.vendor.toLowerCase()) && g.vramBytes !== null && g.vramBytes >= MIN_GPU_BYTES,
  );
  const vramTotal = usableGpus.reduce((s, g) => s + (g.vramBytes ?? 0), 0);
  const gpuBw =
    usableGpus.length === 0
      ? null
      : vramTotal / usableGpus.reduce((s, g) => s + (g.vramBytes ?? 0) / gpuBandwidth(g), 0);
  const ollama = catalog.find((n) => n.id === "ollama");
  const ollamaRam = ctx.placed.has("ollama") || !ollama ? 0 : (ollama.modes[0]?.needs.ramBytes ?? 0);
  const modelPool: Pool = {
    ramBytes: pool.ram - ollamaRam,
    vramBytes: usableGpus.reduce((s, g) => s + Math.max(0, (g.vramBytes ?? 0) - GPU_RESERVE_BYTES), 0),
    cpuBandwidth: cpuBandwidth(profile),
    gpuBandwidth: gpuBw,
  };
  const modelAfter = ollamaRam > 0 ? [...ctx.after, "Ollama"] : [...ctx.after];
  const modelResults = new Map<string, ModelRecommendation>();
  let modelsMemory = 0;
  let diskLeft = pool.disk;
  for (const { id, quant } of chosenModels) {
    const model = modelById(id);
    if (!model || modelResults.has(id)) continue;
    const r = modelRecommendation(
      model,
      modelPool,
      diskLeft,
      options.contextTokens,
      modelAfter,
      quant ?? "Q4_K_M",
      true,
    );
    modelResults.set(id, r);
    // Like a chosen node, a chosen model keeps its place in the budget even when it does not fit.
    const ram = r.fit === "unsuitable" ? r.memoryBytes : r.ramBytes;
    modelPool.ramBytes -= ram;
    modelPool.vramBytes -= r.vramBytes;
    modelsMemory += ram;
    diskLeft -= r.breakdown.weightsBytes;
    if (r.fit === "unsuitable") continue;
    modelAfter.push(model.name);
    energyLoads.push({
      item: `${model.name} (${options.llmHoursPerDay} h a day)`,
      cpuLoad: r.placement === "gpu" ? 0 : options.llmHoursPerDay / 24,
      gpuLoad: r.placement === "cpu" ? 0 : options.llmHoursPerDay / 24,
    });
  }
  for (const model of MODELS) {
    if (modelResults.has(model.id)) continue;
    modelResults.set(
      model.id,
      modelRecommendation(model, modelPool, diskLeft, options.contextTokens, modelAfter, null, false),
    );
  }

  return {
    device: {
      class: cpuClass.id,
      label: cpuClass.label,
      cpuBandwidthBytesPerSecond: modelPool.cpuBandwidth,
      gpuBandwidthBytesPerSecond: gpuBw,
    },
    budget: {
      memoryBytes: profile.memory.totalBytes,
      systemReserveBytes: SYSTEM_RESERVE_BYTES,
      nodesMemoryBytes: nodesMemory,
      modelsMemoryBytes: Math.round(modelsMemory),
      freeMemoryBytes: Math.floor(pool.ram - modelsMemory),
      vramBytes: vramTotal,
      freeVramBytes: Math.floor(modelPool.vramBytes),
      dataDisk: data ? { path: data.disk.path, kind: data.disk.kind, usableBytes: data.usableBytes } : null,
      nodesDiskBytes: nodesDisk,
      freeDiskBytes: Math.floor(diskLeft),
    },
    nodes: catalog.map((n) => nodeResults.get(n.id)).filter((n): n is NodeRecommendation => n !== undefined),
    models: MODELS.map((m) => modelResults.get(m.id)).filter(
      (m): m is ModelRecommendation => m !== undefined,
    ),
    energy: estimateEnergy(profile, energyLoads, options.priceKwh),
  };
}

function toNodeRecommendation(
  node: CatalogNode,
  v: Verdict,
  chosen: boolean,
  reason = v.reason,
): NodeRecommendation {
  return {
    id: node.id,
    name: node.name,
    fit: v.fit,
    ...(node.modes.length > 1 ? { mode: v.mode.id } : {}),
    reason,
    memoryBytes: Math.round(v.ram),
    diskBytes: Math.round(v.disk),
    chosen,
  };
}

function afterList(names: string[]): string {
  if (names.length === 0) return "after the system";
  if (names.length === 1) return `after the system and ${names[0]}`;
  return `after the system, ${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function modelRecommendation(
  model: (typeof MODELS)[number],
  pool: Pool,
  diskFree: number,
  fixedContext: number | null,
  after: string[],
  quant: Quant | null,
  chosen: boolean,
): ModelRecommendation {
  const offered = model.quants.map((q) => q.quant).filter((q) => quant === null || q === quant);
  const onDisk = offered.filter((q) => weightsBytes(model, q) <= diskFree);
  const smallest = offered[0] ?? "Q4_K_M";
  const choice = onDisk.length > 0 ? chooseModel(model, pool, fixedContext, onDisk, !chosen) : null;
  const prefix = chosen ? "chosen: " : "";
  if (!choice?.best || choice.fit === "unsuitable") {
    const ctxTokens = Math.min(fixedContext ?? DEFAULT_CONTEXT, model.arch.trainedContext);
    const cpuSpeed = pool.cpuBandwidth / bytesPerToken(model, smallest, ctxTokens);
    let reason: string;
    if (onDisk.length === 0) {
      reason = `needs ${gb(weightsBytes(model, smallest))} of disk for the model file, ${gb(Math.max(0, diskFree))} free`;
    } else if (choice?.best) {
      reason = `about ${choice.best.tokensPerSecond.toFixed(1)} tokens/s here: too slow to use`;
    } else {
      const gpu = pool.gpuBandwidth !== null ? ` (and ${gb(Math.max(0, pool.vramBytes))} of GPU memory)` : "";
      reason = `needs ${gb(choice?.minRamBytes ?? 0)}, ${gb(Math.max(0, pool.ramBytes))} free ${afterList(after)}${gpu}`;
    }
    const best = choice?.best;
    return {
      id: model.id,
      name: model.name,
      quant: best?.quant ?? smallest,
      contextTokens: best?.contextTokens ?? ctxTokens,
      memoryBytes: Math.round(
        best ? best.ramBytes + best.vramBytes : (choice?.minRamBytes ?? weightsBytes(model, smallest)),
      ),
      tokensPerSecond: round1(best?.tokensPerSecond ?? cpuSpeed),
      fit: "unsuitable",
      reason: prefix + reason,
      placement: best?.placement ?? "cpu",
      gpuLayers: best?.gpuLayers ?? 0,
      layers: model.arch.layers,
      breakdown: {
        weightsBytes: Math.round(best?.weightsBytes ?? weightsBytes(model, smallest)),
        kvBytes: Math.round(best?.kvBytes ?? 0),
        computeBytes: Math.round(best?.computeBytes ?? 0),
        reserveBytes: Math.round(best?.reserveBytes ?? 0),
      },
      vramBytes: 0,
      ramBytes: 0,
      chosen,
    };
  }
  const b = choice.best;
  const where =
    b.placement === "gpu"
      ? "on the GPU"
      : b.placement === "split"
        ? `split: ${b.gpuLayers} of ${model.arch.layers} layers on the GPU`
        : "in system memory";
  const speed = `about ${round1(b.tokensPerSecond)} tokens/s ${where}`;
  const ctxText = `${b.contextTokens} tokens of context`;
  let reason: string;
  if (choice.fit === "recommended") reason = `${speed}, ${ctxText}`;
  else if (choice.shortContext) reason = `${speed}, but only with a ${b.contextTokens}-token context`;
  else reason = `${speed}: usable, but slow`;
  return {
    id: model.id,
    name: model.name,
    quant: b.quant,
    contextTokens: b.contextTokens,
    memoryBytes: Math.round(b.ramBytes + b.vramBytes),
    tokensPerSecond: round1(b.tokensPerSecond),
    fit: choice.fit,
    reason: prefix + reason,
    placement: b.placement,
    gpuLayers: b.gpuLayers,
    layers: model.arch.layers,
    breakdown: {
      weightsBytes: Math.round(b.weightsBytes),
      kvBytes: Math.round(b.kvBytes),
      computeBytes: Math.round(b.computeBytes),
      reserveBytes: Math.round(b.reserveBytes),
    },
    vramBytes: Math.ceil(b.vramBytes),
    ramBytes: Math.ceil(b.ramBytes),
    chosen,
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
