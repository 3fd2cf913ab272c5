import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import type { CatalogModel } from "../../../app/_schemas/catalog";
import { computeBytes, kvBytes } from "../../../app/lib/recommend/llm";
import { type TinyLlama, writeTinyLlama } from "./gguf";

// llama.cpp itself (node-llama-cpp's prebuilt CPU binary from the npm registry; its postinstall,
// which could download or compile, is denied in package.json) loads a GGUF we write here, and we
// compare what it allocates with the estimate the fit model uses.
const dir = mkdtempSync(path.join(tmpdir(), "freehold-gguf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

function archOf(t: TinyLlama): CatalogModel["arch"] {
  return {
    layers: t.layers,
    kvHeads: t.kvHeads,
    headDim: t.embedding / t.heads,
    embedding: t.embedding,
    feedForward: t.feedForward,
    vocab: t.vocab,
    trainedContext: t.trainedContext,
    tiedEmbeddings: false,
    slidingWindow: null,
  };
}

/**
 * llama.cpp's log lines arrive asynchronously, after the call that caused them may have resolved
 * (later still on a busy machine): wait until the line shows up, let the rest drain, take the last.
 */
async function lastMiB(logs: string[], pattern: RegExp, timeoutMs = 15_000): Promise<number> {
  const hits = () => logs.flatMap((l) => [...l.matchAll(pattern)].map((m) => Number(m[1])));
  const deadline = Date.now() + timeoutMs;
  while (hits().length === 0) {
    if (Date.now() > deadline) throw new Error(`llama.cpp did not log ${pattern} within ${timeoutMs} ms`);
    await settle();
  }
  await settle();
  const all = hits();
  return (all[all.length - 1] ?? 0) * MiB;
}

const SHAPES: [string, TinyLlama][] = [
  [
    "feed-forward-bound",
    { layers: 4, embedding: 256, heads: 8, kvHeads: 4, feedForward: 1024, vocab: 259, trainedContext: 16384 },
  ],
  [
    "logits-bound, like real models",
    {
      layers: 4,
      embedding: 256,
      heads: 8,
      kvHeads: 2,
      feedForward: 512,
      vocab: 32768,
      trainedContext: 16384,
    },
  ],
];

const logs: string[] = [];
let llama: Awaited<ReturnType<typeof getLlama>> | undefined;
afterAll(async () => {
  await llama?.dispose();
});

describe("the memory estimate against what llama.cpp allocates", () => {
  it.each(SHAPES)("%s", async (name, shape) => {
    llama ??= await getLlama({
      gpu: false,
      build: "never",
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.debug,
      logger: (_level, message) => {
        logs.push(message);
      },
    });
    logs.length = 0;
    const file = path.join(dir, `${name.split(",")[0]}.gguf`);
    const { tensorBytes } = writeTinyLlama(file, shape);
    const model = await llama.loadModel({ modelPath: file, gpuLayers: 0, useMmap: true });
    try {
      const weights = await lastMiB(logs, /CPU(?:_Mapped)? model buffer size =\s+([\d.]+) MiB/g);
      expect(Math.abs(weights / tensorBytes - 1)).toBeLessThan(0.02);
      for (const contextSize of [4096, 16384]) {
        // Start each context with an empty log, after the previous one's lines have drained.
        await settle();
        logs.length = 0;
        const context = await model.createContext({
          contextSize,
          batchSize: 512,
          flashAttention: true,
          sequences: 1,
        });
        const kv = await lastMiB(logs, /CPU KV buffer size =\s+([\d.]+) MiB/g);
        const compute = await lastMiB(logs, /sched_reserve:\s+CPU compute buffer size =\s+([\d.]+) MiB/g);
        const arch = archOf(shape);
        // The KV cache formula is exact; the compute buffer within 15%; the total never under 95%.
        expect(kvBytes(arch, contextSize)).toBe(kv);
        expect(Math.abs(computeBytes(arch, contextSize, 512) / compute - 1)).toBeLessThan(0.15);
        const estimate = tensorBytes + kvBytes(arch, contextSize) + computeBytes(arch, contextSize, 512);
        const actual = weights + kv + compute;
        expect(estimate / actual).toBeGreaterThan(0.95);
        expect(estimate / actual).toBeLessThan(1.3);
        // It really runs: one token through the model.
        const step = await context.getSequence().evaluate(model.tokenize("hi")).next();
        expect(typeof step.value).toBe("number");
        await context.dispose();
      }
    } finally {
      await model.dispose();
    }
  });
});
