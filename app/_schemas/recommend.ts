import { z } from "zod";
import { QuantSchema } from "./catalog";

/** What `freehold recommend --json` prints (and the results page shows). */

export const FitSchema = z.enum(["recommended", "possible", "unsuitable"]);

export const RecommendOptionsSchema = z.strictObject({
  /** Node ids the owner chose ("id" or "id:mode"); their dependencies are added. */
  nodes: z
    .array(z.string().regex(/^[a-z0-9-]+(:[a-z0-9-]+)?$/))
    .max(50)
    .default([]),
  /** Models the owner chose ("id" or "id:QUANT"); they share memory with the chosen nodes. */
  models: z
    .array(z.string().regex(/^[a-z0-9.-]+(:[A-Z0-9_]+)?$/))
    .max(20)
    .default([]),
  /** Price of a kWh in the owner's currency. */
  priceKwh: z.number().nonnegative().max(100).default(0.3),
  /** A fixed context length; by default the largest that fits, at least 4096 where the model allows. */
  contextTokens: z.number().int().min(512).max(1_048_576).nullable().default(null),
  /** Hours a day an LLM is generating, for the energy estimate. */
  llmHoursPerDay: z.number().min(0).max(24).default(1),
});

export const NodeRecommendationSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  fit: FitSchema,
  mode: z.string().optional(),
  reason: z.string().min(1),
  memoryBytes: z.number().int().nonnegative(),
  diskBytes: z.number().int().nonnegative(),
  chosen: z.boolean(),
});

export const ModelRecommendationSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  quant: QuantSchema,
  contextTokens: z.number().int().positive(),
  memoryBytes: z.number().int().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  fit: FitSchema,
  reason: z.string().min(1),
  placement: z.enum(["gpu", "split", "cpu"]),
  /** Layers on the GPU(s) when split. */
  gpuLayers: z.number().int().nonnegative(),
  layers: z.number().int().positive(),
  /** Memory by kind: weights, KV cache, compute buffers, reserve. */
  breakdown: z.strictObject({
    weightsBytes: z.number().int().nonnegative(),
    kvBytes: z.number().int().nonnegative(),
    computeBytes: z.number().int().nonnegative(),
    reserveBytes: z.number().int().nonnegative(),
  }),
  vramBytes: z.number().int().nonnegative(),
  ramBytes: z.number().int().nonnegative(),
  chosen: z.boolean(),
});

export const EnergySchema = z.strictObject({
  deviceClass: z.string(),
  idleWatts: z.number().nonnegative(),
  loadedWatts: z.number().nonnegative(),
  /** Average draw of the box running the chosen nodes and models. */
  averageWatts: z.number().nonnegative(),
  monthlyKwh: z.number().nonnegative(),
  priceKwh: z.number().nonnegative(),
  monthlyCost: z.number().nonnegative(),
  breakdown: z.array(z.strictObject({ item: z.string(), watts: z.number() })),
  /** CPU mining turns every watt into a watt of heat; null when no miner is chosen. */
  miningHeatWatts: z.number().nonnegative().nullable(),
  note: z.string(),
});

export const BudgetSchema = z.strictObject({
  memoryBytes: z.number().int().nonnegative(),
  systemReserveBytes: z.number().int().nonnegative(),
  nodesMemoryBytes: z.number().int().nonnegative(),
  modelsMemoryBytes: z.number().int().nonnegative(),
  freeMemoryBytes: z.number().int(),
  vramBytes: z.number().int().nonnegative(),
  freeVramBytes: z.number().int(),
  dataDisk: z.strictObject({ path: z.string(), kind: z.string(), usableBytes: z.number().int() }).nullable(),
  nodesDiskBytes: z.number().int().nonnegative(),
  freeDiskBytes: z.number().int(),
});

export const RecommendationSchema = z.strictObject({
  device: z.strictObject({
    class: z.string(),
    label: z.string(),
    cpuBandwidthBytesPerSecond: z.number().positive(),
    gpuBandwidthBytesPerSecond: z.number().positive().nullable(),
  }),
  budget: BudgetSchema,
  nodes: z.array(NodeRecommendationSchema),
  models: z.array(ModelRecommendationSchema),
  energy: EnergySchema,
});

export type Fit = z.infer<typeof FitSchema>;
export type RecommendOptions = z.infer<typeof RecommendOptionsSchema>;
export type RecommendOptionsInput = z.input<typeof RecommendOptionsSchema>;
export type NodeRecommendation = z.infer<typeof NodeRecommendationSchema>;
export type ModelRecommendation = z.infer<typeof ModelRecommendationSchema>;
export type Energy = z.infer<typeof EnergySchema>;
export type Budget = z.infer<typeof BudgetSchema>;
export type Recommendation = z.infer<typeof RecommendationSchema>;
