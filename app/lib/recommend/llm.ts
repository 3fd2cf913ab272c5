import type { CatalogModel, Quant } from "../../_schemas/catalog";
import type { Fit } from "../../_schemas/recommend";
import { FILE_BITS_PER_WEIGHT } from "../catalog/models";

/**
 * The fit and speed model for one LLM: memory = weights + KV(context) + compute buffers + reserve,
 * placed on the GPU(s), split between GPU and RAM, or in RAM; tokens/s from the bytes read per
 * generated token and the effective bandwidth of where they live.
 */

const MiB = 1024 * 1024;
/** Ollama keeps ~457 MiB per CUDA GPU for the driver and runtime; llama.cpp's fit keeps more. */
export const GPU_RESERVE_BYTES = 512 * MiB;
/** The runner process itself (Ollama's llama server, its threads and host buffers). */
export const RUNTIME_RESERVE_BYTES = 256 * MiB;
/** Decoding at this many tokens of conversation so far is what the speed estimate describes. */
export const TYPICAL_CONTEXT = 1024;
/** Below this, a chat is painful; below the second, useless. */
export const RECOMMENDED_TOKENS_PER_SECOND = 5;
export const POSSIBLE_TOKENS_PER_SECOND = 1;
/** Context lengths offered, smallest first; 4096 is Ollama's default below 23 GiB of VRAM. */
export const CONTEXT_LADDER = [2048, 4096, 8192, 16384, 32768] as const;
export const DEFAULT_CONTEXT = 4096;
const UBATCHES = [512, 256] as const;

type Arch = CatalogModel["arch"];

export function weightsBytes(model: CatalogModel, quant: Quant): number {
  const q = model.quants.find((x) => x.quant === quant);
  if (!q) throw new Error(`${model.id} has no ${quant}`);
  return q.bytes;
}

/** The token-embedding table: looked up one row per token, so not read in full unless tied to the output. */
export function embeddingBytes(arch: Arch, quant: Quant): number {
  return (arch.vocab * arch.embedding * FILE_BITS_PER_WEIGHT[quant]) / 8;
}

/** KV cache: 2 × layers × kv heads × head dim × tokens × bytes per element (f16 = 2); windowed layers keep `window` tokens. */
export function kvBytes(arch: Arch, contextTokens: number, bytesPerElement = 2): number {
  const perTokenPerLayer = 2 * arch.kvHeads * arch.headDim * bytesPerElement;
  const windowed = arch.slidingWindow?.windowedLayers ?? 0;
  const windowTokens = arch.slidingWindow ? Math.min(contextTokens, arch.slidingWindow.window) : 0;
  return perTokenPerLayer * ((arch.layers - windowed) * contextTokens + windowed * windowTokens);
}

/**
 * llama.cpp's compute buffer with flash attention. The graph allocator reuses memory, so the peak
 * is the larger of two phases: the output (vocab × ubatch f32 logits plus a few embedding-sized
 * rows) and the layers (feed-forward activations, the residual stream and the f16 attention mask
 * of context × ubatch). Fitted to what llama.cpp really allocates in
 * test/unit/recommend/llama-cpp.test.ts; gives ~322 MiB for Llama-3.1-8B at 4k (llm-sizing.md: ≈310 MB).
 */
export function computeBytes(arch: Arch, contextTokens: number, ubatch: number): number {
  const output = 4 * ubatch * (arch.vocab + 9 * arch.embedding);
  const layers = 4 * ubatch * (3 * arch.feedForward + 4 * arch.embedding) + 2 * ubatch * contextTokens;
  return Math.max(output, layers);
}

/** Bytes read from memory to generate one token at `TYPICAL_CONTEXT` tokens so far. */
export function bytesPerToken(model: CatalogModel, quant: Quant, contextTokens: number): number {
  const w = weightsBytes(model, quant);
  const embedding = model.arch.tiedEmbeddings ? 0 : embeddingBytes(model.arch, quant);
  return w - embedding + kvBytes(model.arch, Math.min(TYPICAL_CONTEXT, contextTokens));
}

export interface Pool {
  /** Bytes of system RAM still free. */
  ramBytes: number;
  /** Bytes of VRAM still free on the usable GPUs together (their reserves already taken off). */
  vramBytes: number;
  /** Effective bandwidths, bytes/s. */
  cpuBandwidth: number;
  gpuBandwidth: number | null;
}

export interface Placement {
  quant: Quant;
  contextTokens: number;
  ubatch: number;
  placement: "gpu" | "split" | "cpu";
  gpuLayers: number;
  ramBytes: number;
  vramBytes: number;
  weightsBytes: number;
  kvBytes: number;
  computeBytes: number;
  reserveBytes: number;
  tokensPerSecond: number;
}

/** Every way to run `model` at `quant` and `contextTokens` that fits the pool, best first is not implied. */
export function placements(
  model: CatalogModel,
  quant: Quant,
  contextTokens: number,
  pool: Pool,
): Placement[] {
  const { arch } = model;
  const w = weightsBytes(model, quant);
  const kv = kvBytes(arch, contextTokens);
  const read = bytesPerToken(model, quant, contextTokens);
  const out: Placement[] = [];
  for (const ubatch of UBATCHES) {
    const c = computeBytes(arch, contextTokens, ubatch);
    const base = { quant, contextTokens, ubatch, weightsBytes: w, kvBytes: kv, computeBytes: c };
    // All in RAM.
    const cpuRam = w + kv + c + RUNTIME_RESERVE_BYTES;
    if (cpuRam <= pool.ramBytes) {
      out.push({
        ...base,
        placement: "cpu",
        gpuLayers: 0,
        ramBytes: cpuRam,
        vramBytes: 0,
        reserveBytes: RUNTIME_RESERVE_BYTES,
        tokensPerSecond: pool.cpuBandwidth / read,
      });
    }
    if (pool.gpuBandwidth === null || pool.vramBytes <= 0) continue;
    // All on the GPU(s).
    if (w + kv + c <= pool.vramBytes && RUNTIME_RESERVE_BYTES <= pool.ramBytes) {
      out.push({
        ...base,
        placement: "gpu",
        gpuLayers: arch.layers,
        ramBytes: RUNTIME_RESERVE_BYTES,
        vramBytes: w + kv + c,
        reserveBytes: RUNTIME_RESERVE_BYTES + GPU_RESERVE_BYTES,
        tokensPerSecond: pool.gpuBandwidth / read,
      });
      continue;
    }
    // Split: as many layers as fit on the GPU(s), the rest and the embedding table in RAM.
    const embedding = embeddingBytes(arch, quant);
    const layerBytes = (w - embedding) / arch.layers + kv / arch.layers;
    const layers = Math.min(arch.layers - 1, Math.floor((pool.vramBytes - c) / layerBytes));
    if (layers < 1) continue;
    const vram = layers * layerBytes + c;
    const ram = (arch.layers - layers) * layerBytes + embedding + c + RUNTIME_RESERVE_BYTES;
    if (ram > pool.ramBytes) continue;
    const gpuShare = (layers * layerBytes) / (w - embedding + kv);
    const seconds = (read * gpuShare) / pool.gpuBandwidth + (read * (1 - gpuShare)) / pool.cpuBandwidth;
    out.push({
      ...base,
      placement: "split",
      gpuLayers: layers,
      ramBytes: ram,
      vramBytes: vram,
      reserveBytes: RUNTIME_RESERVE_BYTES + GPU_RESERVE_BYTES,
      tokensPerSecond: 1 / seconds,
    });
  }
  return out;
}

export function speedFit(tokensPerSecond: number): Fit {
  if (tokensPerSecond >= RECOMMENDED_TOKENS_PER_SECOND) return "recommended";
  if (tokensPerSecond >= POSSIBLE_TOKENS_PER_SECOND) return "possible";
  return "unsuitable";
}

export const FIT_RANK: Record<Fit, number> = { unsuitable: 0, possible: 1, recommended: 2 };

export interface ModelChoice {
  fit: Fit;
  best: Placement | null;
  /** The smallest memory any way of running it needs (for the reason of an unsuitable model). */
  minRamBytes: number;
  shortContext: boolean;
}

const QUANT_ORDER: Quant[] = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"];
/** Wholly on the GPU beats a split, which beats system memory, at equal fit. */
const PLACEMENT_RANK = { gpu: 2, split: 1, cpu: 0 } as const;

/**
 * The best way to run a model in the pool. The fit level is the best over quantizations,
 * placements and batch sizes at the base context (a 2048-token context at most earns "possible"),
 * so more memory or bandwidth can never lower it. Among placements at that level: when recommended,
 * the best quantization among those at least 60% as fast as the fastest; otherwise the fastest. The reported context is then the
 * largest of the ladder at which the same choice keeps its level (unless `extendContext` is off:
 * a chosen model keeps the base context so that it leaves room for the others).
 */
export function chooseModel(
  model: CatalogModel,
  pool: Pool,
  fixedContext: number | null,
  quants = QUANT_ORDER,
  extendContext = true,
): ModelChoice {
  const trained = model.arch.trainedContext;
  const base = Math.min(fixedContext ?? DEFAULT_CONTEXT, trained);
  const candidates: { p: Placement; fit: Fit; short: boolean }[] = [];
  for (const quant of quants) {
    for (const p of placements(model, quant, base, pool))
      candidates.push({ p, fit: speedFit(p.tokensPerSecond), short: false });
    if (fixedContext === null && base > 2048) {
      for (const p of placements(model, quant, 2048, pool)) {
        const f = speedFit(p.tokensPerSecond);
        candidates.push({ p, fit: f === "recommended" ? "possible" : f, short: true });
      }
    }
  }
  const minRamBytes = Math.min(
    ...quants.map(
      (q) =>
        weightsBytes(model, q) +
        kvBytes(model.arch, Math.min(2048, base)) +
        computeBytes(model.arch, Math.min(2048, base), 256) +
        RUNTIME_RESERVE_BYTES,
    ),
  );
  if (candidates.length === 0) return { fit: "unsuitable", best: null, minRamBytes, shortContext: false };
  const top = Math.max(...candidates.map((c) => FIT_RANK[c.fit]));
  let atTop = candidates.filter((c) => FIT_RANK[c.fit] === top);
  // Quality where it costs little speed: the best quantization within 60% of the fastest way.
  const fastest = Math.max(...atTop.map((c) => c.p.tokensPerSecond));
  if (top === FIT_RANK.recommended) atTop = atTop.filter((c) => c.p.tokensPerSecond >= 0.6 * fastest);
  atTop.sort((a, b) => {
    if (a.short !== b.short) return a.short ? 1 : -1;
    if (top === FIT_RANK.recommended) {
      const where = PLACEMENT_RANK[b.p.placement] - PLACEMENT_RANK[a.p.placement];
      if (where !== 0) return where;
      const q = QUANT_ORDER.indexOf(b.p.quant) - QUANT_ORDER.indexOf(a.p.quant);
      if (q !== 0) return q;
    }
    return b.p.tokensPerSecond - a.p.tokensPerSecond;
  });
  const chosen = atTop[0];
  if (!chosen) return { fit: "unsuitable", best: null, minRamBytes, shortContext: false };
  let best = chosen.p;
  if (extendContext && fixedContext === null && !chosen.short) {
    // Long contexts where the model lives on the GPU; a few thousand tokens more in RAM.
    const cap = best.placement === "gpu" ? 32768 : 8192;
    for (const ctx of CONTEXT_LADDER) {
      if (ctx <= best.contextTokens || ctx > trained || ctx > cap) continue;
      const bigger = placements(model, best.quant, ctx, pool).find(
        (p) =>
          p.placement === best.placement &&
          p.ubatch === best.ubatch &&
          FIT_RANK[speedFit(p.tokensPerSecond)] >= top &&
          p.tokensPerSecond >= 0.9 * chosen.p.tokensPerSecond,
      );
      if (!bigger) break;
      best = bigger;
    }
  }
  return { fit: chosen.fit, best, minRamBytes, shortContext: chosen.short };
}
