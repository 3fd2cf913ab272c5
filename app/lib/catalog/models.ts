import { type CatalogModel, ModelCatalogSchema, type Quant } from "../../_schemas/catalog";

/**
 * The model catalog: the models of ../shared/reference/llm-sizing.md with the architecture numbers
 * (from each model's config.json) that the KV-cache and compute-buffer formulas need.
 * Sizes: the default Ollama tag's size as published; the other quantizations derived from it by
 * the whole-file bits per weight measured on Llama-3.1-8B (llm-sizing.md).
 */

/** Whole-file average bits per weight (Llama-3.1-8B; small models run a little higher). */
export const FILE_BITS_PER_WEIGHT = { Q4_K_M: 4.89, Q5_K_M: 5.7, Q6_K: 6.56, Q8_0: 8.5, F16: 16 } as const;
const OFFERED: Quant[] = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"];
const GB = 1e9;
const MB = 1e6;

interface Entry {
  id: string;
  name: string;
  ollama: string;
  parameters: number;
  tag: { quant: keyof typeof FILE_BITS_PER_WEIGHT; bytes: number };
  arch: CatalogModel["arch"];
  source: string;
}

function model(e: Entry): unknown {
  const quants = OFFERED.map((quant) =>
    quant === e.tag.quant
      ? { quant, bytes: Math.round(e.tag.bytes), sizeFrom: "ollama" }
      : {
          quant,
          bytes: Math.round((e.tag.bytes * FILE_BITS_PER_WEIGHT[quant]) / FILE_BITS_PER_WEIGHT[e.tag.quant]),
          sizeFrom: "derived",
        },
  );
  return {
    id: e.id,
    name: e.name,
    ollama: e.ollama,
    parameters: e.parameters,
    arch: e.arch,
    quants,
    source: e.source,
  };
}

type A = CatalogModel["arch"];
const qwen25 = (
  layers: number,
  kvHeads: number,
  embedding: number,
  feedForward: number,
  tied: boolean,
  vocab = 151936,
): A => ({
  layers,
  kvHeads,
  headDim: embedding === 896 ? 64 : 128,
  embedding,
  feedForward,
  vocab,
  trainedContext: 32768,
  tiedEmbeddings: tied,
  slidingWindow: null,
});
const qwen3 = (layers: number, embedding: number, feedForward: number, tied: boolean): A => ({
  layers,
  kvHeads: 8,
  headDim: 128,
  embedding,
  feedForward,
  vocab: 151936,
  trainedContext: 40960,
  tiedEmbeddings: tied,
  slidingWindow: null,
});
/** Gemma 3: five of every six layers attend to a sliding window only. */
const gemma3 = (
  layers: number,
  kvHeads: number,
  headDim: number,
  embedding: number,
  feedForward: number,
  window: number,
  ctx: number,
): A => ({
  layers,
  kvHeads,
  headDim,
  embedding,
  feedForward,
  vocab: 262144,
  trainedContext: ctx,
  tiedEmbeddings: true,
  slidingWindow: { window, windowedLayers: layers - Math.floor(layers / 6) },
});
const llama = (
  layers: number,
  kvHeads: number,
  headDim: number,
  embedding: number,
  feedForward: number,
  tied: boolean,
): A => ({
  layers,
  kvHeads,
  headDim,
  embedding,
  feedForward,
  vocab: 128256,
  trainedContext: 131072,
  tiedEmbeddings: tied,
  slidingWindow: null,
});

const HF = "https://huggingface.co";
const entries: Entry[] = [
  {
    id: "qwen2.5-0.5b",
    name: "Qwen2.5 0.5B",
    ollama: "qwen2.5:0.5b",
    parameters: 0.49e9,
    tag: { quant: "Q4_K_M", bytes: 398 * MB },
    arch: qwen25(24, 2, 896, 4864, true),
    source: `${HF}/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json`,
  },
  {
    id: "qwen2.5-1.5b",
    name: "Qwen2.5 1.5B",
    ollama: "qwen2.5:1.5b",
    parameters: 1.54e9,
    tag: { quant: "Q4_K_M", bytes: 986 * MB },
    arch: qwen25(28, 2, 1536, 8960, true),
    source: `${HF}/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json`,
  },
  {
    id: "qwen2.5-3b",
    name: "Qwen2.5 3B",
    ollama: "qwen2.5:3b",
    parameters: 3.09e9,
    tag: { quant: "Q4_K_M", bytes: 1.9 * GB },
    arch: qwen25(36, 2, 2048, 11008, true),
    source: `${HF}/Qwen/Qwen2.5-3B-Instruct/blob/main/config.json`,
  },
  {
    id: "qwen2.5-7b",
    name: "Qwen2.5 7B",
    ollama: "qwen2.5:7b",
    parameters: 7.62e9,
    tag: { quant: "Q4_K_M", bytes: 4.7 * GB },
    arch: qwen25(28, 4, 3584, 18944, false, 152064),
    source: `${HF}/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json`,
  },
  {
    id: "qwen2.5-14b",
    name: "Qwen2.5 14B",
    ollama: "qwen2.5:14b",
    parameters: 14.8e9,
    tag: { quant: "Q4_K_M", bytes: 9.0 * GB },
    arch: qwen25(48, 8, 5120, 13824, false, 152064),
    source: `${HF}/Qwen/Qwen2.5-14B-Instruct/blob/main/config.json`,
  },
  {
    id: "qwen2.5-32b",
    name: "Qwen2.5 32B",
    ollama: "qwen2.5:32b",
    parameters: 32.8e9,
    tag: { quant: "Q4_K_M", bytes: 20 * GB },
    arch: qwen25(64, 8, 5120, 27648, false, 152064),
    source: `${HF}/Qwen/Qwen2.5-32B-Instruct/blob/main/config.json`,
  },
  {
    id: "qwen3-0.6b",
    name: "Qwen3 0.6B",
    ollama: "qwen3:0.6b",
    parameters: 0.6e9,
    tag: { quant: "Q4_K_M", bytes: 523 * MB },
    arch: qwen3(28, 1024, 3072, true),
    source: `${HF}/Qwen/Qwen3-0.6B/blob/main/config.json`,
  },
  {
    id: "qwen3-1.7b",
    name: "Qwen3 1.7B",
    ollama: "qwen3:1.7b",
    parameters: 1.7e9,
    tag: { quant: "Q4_K_M", bytes: 1.4 * GB },
    arch: qwen3(28, 2048, 6144, true),
    source: `${HF}/Qwen/Qwen3-1.7B/blob/main/config.json`,
  },
  {
    id: "qwen3-4b",
    name: "Qwen3 4B",
    ollama: "qwen3:4b",
    parameters: 4.0e9,
    tag: { quant: "Q4_K_M", bytes: 2.5 * GB },
    arch: qwen3(36, 2560, 9728, true),
    source: `${HF}/Qwen/Qwen3-4B/blob/main/config.json`,
  },
  {
    id: "qwen3-8b",
    name: "Qwen3 8B",
    ollama: "qwen3:8b",
    parameters: 8.2e9,
    tag: { quant: "Q4_K_M", bytes: 5.2 * GB },
    arch: qwen3(36, 4096, 12288, false),
    source: `${HF}/Qwen/Qwen3-8B/blob/main/config.json`,
  },
  {
    id: "qwen3-14b",
    name: "Qwen3 14B",
    ollama: "qwen3:14b",
    parameters: 14.8e9,
    tag: { quant: "Q4_K_M", bytes: 9.3 * GB },
    arch: qwen3(40, 5120, 17408, false),
    source: `${HF}/Qwen/Qwen3-14B/blob/main/config.json`,
  },
  {
    id: "qwen3-32b",
    name: "Qwen3 32B",
    ollama: "qwen3:32b",
    parameters: 32.8e9,
    tag: { quant: "Q4_K_M", bytes: 20 * GB },
    arch: qwen3(64, 5120, 25600, false),
    source: `${HF}/Qwen/Qwen3-32B/blob/main/config.json`,
  },
  {
    id: "llama3.2-1b",
    name: "Llama 3.2 1B",
    ollama: "llama3.2:1b",
    parameters: 1.24e9,
    tag: { quant: "Q8_0", bytes: 1.3 * GB },
    arch: llama(16, 8, 64, 2048, 8192, true),
    source: `${HF}/meta-llama/Llama-3.2-1B-Instruct/blob/main/config.json`,
  },
  {
    id: "llama3.2-3b",
    name: "Llama 3.2 3B",
    ollama: "llama3.2:3b",
    parameters: 3.21e9,
    tag: { quant: "Q4_K_M", bytes: 2.0 * GB },
    arch: llama(28, 8, 128, 3072, 8192, true),
    source: `${HF}/meta-llama/Llama-3.2-3B-Instruct/blob/main/config.json`,
  },
  {
    id: "llama3.1-8b",
    name: "Llama 3.1 8B",
    ollama: "llama3.1:8b",
    parameters: 8.03e9,
    tag: { quant: "Q4_K_M", bytes: 4.9 * GB },
    arch: llama(32, 8, 128, 4096, 14336, false),
    source: `${HF}/meta-llama/Llama-3.1-8B-Instruct/blob/main/config.json`,
  },
  {
    id: "llama3.3-70b",
    name: "Llama 3.3 70B",
    ollama: "llama3.3:70b",
    parameters: 70.6e9,
    tag: { quant: "Q4_K_M", bytes: 43 * GB },
    arch: llama(80, 8, 128, 8192, 28672, false),
    source: `${HF}/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json`,
  },
  {
    id: "mistral-7b",
    name: "Mistral 7B v0.3",
    ollama: "mistral:7b",
    parameters: 7.25e9,
    tag: { quant: "Q4_K_M", bytes: 4.4 * GB },
    arch: {
      layers: 32,
      kvHeads: 8,
      headDim: 128,
      embedding: 4096,
      feedForward: 14336,
      vocab: 32768,
      trainedContext: 32768,
      tiedEmbeddings: false,
      slidingWindow: null,
    },
    source: `${HF}/mistralai/Mistral-7B-Instruct-v0.3/blob/main/config.json`,
  },
  {
    id: "gemma3-1b",
    name: "Gemma 3 1B",
    ollama: "gemma3:1b",
    parameters: 1.0e9,
    tag: { quant: "Q4_K_M", bytes: 815 * MB },
    arch: gemma3(26, 1, 256, 1152, 6912, 512, 32768),
    source: `${HF}/google/gemma-3-1b-it/blob/main/config.json`,
  },
  {
    id: "gemma3-4b",
    name: "Gemma 3 4B",
    ollama: "gemma3:4b",
    parameters: 3.9e9,
    tag: { quant: "Q4_K_M", bytes: 3.3 * GB },
    arch: gemma3(34, 4, 256, 2560, 10240, 1024, 131072),
    source: `${HF}/google/gemma-3-4b-it/blob/main/config.json`,
  },
  {
    id: "gemma3-12b",
    name: "Gemma 3 12B",
    ollama: "gemma3:12b",
    parameters: 11.8e9,
    tag: { quant: "Q4_K_M", bytes: 8.1 * GB },
    arch: gemma3(48, 8, 256, 3840, 15360, 1024, 131072),
    source: `${HF}/google/gemma-3-12b-it/blob/main/config.json`,
  },
  {
    id: "gemma3-27b",
    name: "Gemma 3 27B",
    ollama: "gemma3:27b",
    parameters: 27e9,
    tag: { quant: "Q4_K_M", bytes: 17 * GB },
    arch: gemma3(62, 16, 128, 5376, 21504, 1024, 131072),
    source: `${HF}/google/gemma-3-27b-it/blob/main/config.json`,
  },
  {
    id: "phi4-mini",
    name: "Phi-4-mini",
    ollama: "phi4-mini:3.8b",
    parameters: 3.8e9,
    tag: { quant: "Q4_K_M", bytes: 2.5 * GB },
    arch: {
      layers: 32,
      kvHeads: 8,
      headDim: 128,
      embedding: 3072,
      feedForward: 8192,
      vocab: 200064,
      trainedContext: 131072,
      tiedEmbeddings: true,
      slidingWindow: null,
    },
    source: `${HF}/microsoft/Phi-4-mini-instruct/blob/main/config.json`,
  },
  {
    id: "phi3.5-mini",
    name: "Phi-3.5 mini",
    ollama: "phi3.5:3.8b",
    parameters: 3.8e9,
    tag: { quant: "Q4_K_M", bytes: 2.2 * GB },
    arch: {
      layers: 32,
      kvHeads: 32,
      headDim: 96,
      embedding: 3072,
      feedForward: 8192,
      vocab: 32064,
      trainedContext: 131072,
      tiedEmbeddings: false,
      slidingWindow: null,
    },
    source: `${HF}/microsoft/Phi-3.5-mini-instruct/blob/main/config.json`,
  },
  {
    id: "phi4",
    name: "Phi-4",
    ollama: "phi4:14b",
    parameters: 14.7e9,
    tag: { quant: "Q4_K_M", bytes: 9.1 * GB },
    arch: {
      layers: 40,
      kvHeads: 10,
      headDim: 128,
      embedding: 5120,
      feedForward: 17920,
      vocab: 100352,
      trainedContext: 16384,
      tiedEmbeddings: false,
      slidingWindow: null,
    },
    source: `${HF}/microsoft/phi-4/blob/main/config.json`,
  },
  {
    id: "deepseek-r1-1.5b",
    name: "DeepSeek-R1 distill 1.5B",
    ollama: "deepseek-r1:1.5b",
    parameters: 1.78e9,
    tag: { quant: "Q4_K_M", bytes: 1.1 * GB },
    arch: { ...qwen25(28, 2, 1536, 8960, false), trainedContext: 131072 },
    source: `${HF}/deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B/blob/main/config.json`,
  },
  {
    id: "deepseek-r1-7b",
    name: "DeepSeek-R1 distill 7B",
    ollama: "deepseek-r1:7b",
    parameters: 7.62e9,
    tag: { quant: "Q4_K_M", bytes: 4.7 * GB },
    arch: { ...qwen25(28, 4, 3584, 18944, false, 152064), trainedContext: 131072 },
    source: `${HF}/deepseek-ai/DeepSeek-R1-Distill-Qwen-7B/blob/main/config.json`,
  },
  {
    id: "deepseek-r1-14b",
    name: "DeepSeek-R1 distill 14B",
    ollama: "deepseek-r1:14b",
    parameters: 14.8e9,
    tag: { quant: "Q4_K_M", bytes: 9.0 * GB },
    arch: { ...qwen25(48, 8, 5120, 13824, false, 152064), trainedContext: 131072 },
    source: `${HF}/deepseek-ai/DeepSeek-R1-Distill-Qwen-14B/blob/main/config.json`,
  },
  {
    id: "deepseek-r1-32b",
    name: "DeepSeek-R1 distill 32B",
    ollama: "deepseek-r1:32b",
    parameters: 32.8e9,
    tag: { quant: "Q4_K_M", bytes: 20 * GB },
    arch: { ...qwen25(64, 8, 5120, 27648, false, 152064), trainedContext: 131072 },
    source: `${HF}/deepseek-ai/DeepSeek-R1-Distill-Qwen-32B/blob/main/config.json`,
  },
  {
    id: "smollm2-135m",
    name: "SmolLM2 135M",
    ollama: "smollm2:135m",
    parameters: 0.135e9,
    tag: { quant: "F16", bytes: 271 * MB },
    arch: {
      layers: 30,
      kvHeads: 3,
      headDim: 64,
      embedding: 576,
      feedForward: 1536,
      vocab: 49152,
      trainedContext: 8192,
      tiedEmbeddings: true,
      slidingWindow: null,
    },
    source: `${HF}/HuggingFaceTB/SmolLM2-135M-Instruct/blob/main/config.json`,
  },
  {
    id: "smollm2-360m",
    name: "SmolLM2 360M",
    ollama: "smollm2:360m",
    parameters: 0.36e9,
    tag: { quant: "F16", bytes: 726 * MB },
    arch: {
      layers: 32,
      kvHeads: 5,
      headDim: 64,
      embedding: 960,
      feedForward: 2560,
      vocab: 49152,
      trainedContext: 8192,
      tiedEmbeddings: true,
      slidingWindow: null,
    },
    source: `${HF}/HuggingFaceTB/SmolLM2-360M-Instruct/blob/main/config.json`,
  },
  {
    id: "smollm2-1.7b",
    name: "SmolLM2 1.7B",
    ollama: "smollm2:1.7b",
    parameters: 1.7e9,
    tag: { quant: "Q8_0", bytes: 1.8 * GB },
    arch: {
      layers: 24,
      kvHeads: 32,
      headDim: 64,
      embedding: 2048,
      feedForward: 8192,
      vocab: 49152,
      trainedContext: 8192,
      tiedEmbeddings: true,
      slidingWindow: null,
    },
    source: `${HF}/HuggingFaceTB/SmolLM2-1.7B-Instruct/blob/main/config.json`,
  },
];

export const MODELS: readonly CatalogModel[] = ModelCatalogSchema.parse(entries.map(model));

export function modelById(id: string): CatalogModel | undefined {
  return MODELS.find((m) => m.id === id);
}
