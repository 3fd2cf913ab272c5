import { Ollama } from "ollama";
import { OpInputSchemas } from "../../_schemas/ops";
import {
  addSample,
  describeTransfer,
  type Sample,
  shouldReport,
  transferStats,
} from "../../lib/transfer/rate";
import { runs } from "../command";
import { OpError } from "../host";
import type { PlanAgentOp } from "./common";
import { OLLAMA_ADDRESS } from "./ollama-service";

/**
 * model.pull: a model into the box's Ollama, through Ollama's own API (the `ollama` npm client;
 * Ollama downloads and checks the layers itself). Observe: the tag is already listed → nothing to
 * do. Otherwise pull with streamed progress, turned into the agent's progress events with bytes
 * done/total (summed over the model's layers), rate and ETA. Verify: the tag is listed.
 */

export interface ModelPullDeps {
  /** Ollama's base URL: the box's own on localhost; tests give a fake server's. */
  ollamaUrl: string;
  now: () => number;
}

/** "qwen2.5:7b" and "qwen2.5" (which Ollama stores as "qwen2.5:latest") compare equal. */
export const normalTag = (tag: string) => (tag.includes(":") ? tag : `${tag}:latest`);

/** Bytes done and total over the layers seen so far (each layer reports its own digest). */
export function layerTotals(layers: ReadonlyMap<string, { total: number; completed: number }>) {
  let done = 0;
  let total = 0;
  for (const l of layers.values()) {
    done += Math.min(l.completed, l.total);
    total += l.total;
  }
  return { done, total: total > 0 ? total : null };
}

export function makeModelPull(deps: ModelPullDeps): PlanAgentOp<"model.pull"> {
  return {
    name: "model.pull",
    input: OpInputSchemas["model.pull"],
    secrets: [],
    preview: (input) => [runs(["ollama", "pull", "--", input.ollama])],

    async run(input, _secrets, host) {
      const client = new Ollama({ host: deps.ollamaUrl });
      const tag = normalTag(input.ollama);
      try {
        await client.version();
      } catch {
        throw new OpError(
          `Ollama does not answer at ${deps.ollamaUrl}`,
          "Install the ollama node first (the plan installs it before the models), or start ollama.service.",
        );
      }
      const listed = async () => (await client.list()).models.some((m) => normalTag(m.name) === tag);
      if (await listed()) return { changed: false, verified: true, detail: { model: input.id, tag } };

      const layers = new Map<string, { total: number; completed: number }>();
      let samples: Sample[] = [];
      let last: number | null = null;
      let status = "";
      host.progress(`pulling ${tag} (${input.quant})`);
      try {
        const stream = await client.pull({ model: input.ollama, stream: true });
        for await (const part of stream) {
          status = part.status;
          if (part.digest && part.total > 0)
            layers.set(part.digest, { total: part.total, completed: part.completed ?? 0 });
          const { done, total } = layerTotals(layers);
          const t = deps.now();
          samples = addSample(samples, { atMs: t, bytes: done });
          if (!shouldReport(last, t, status === "success")) continue;
          last = t;
          const stats = transferStats(samples, total);
          host.progress(`${tag}: ${status}${total !== null ? `, ${describeTransfer(stats)}` : ""}`, stats);
        }
      } catch (e) {
        throw new OpError(
          `Ollama could not pull ${tag}: ${(e as Error).message}`,
          "Check the box's internet connection and free space on the data volume, then retry.",
        );
      }
      const verified = status === "success" && (await listed());
      const { done } = layerTotals(layers);
      return {
        changed: true,
        verified,
        detail: {
          model: input.id,
          tag,
          bytes: done,
          ...(verified
            ? {}
            : {
                problems: `Ollama ended with "${status}" and ${tag} is ${status === "success" ? "not listed" : "incomplete"}`,
              }),
        },
      };
    },
  };
}

export const modelPull = makeModelPull({ ollamaUrl: `http://${OLLAMA_ADDRESS}`, now: Date.now });
