import { describe, expect, it } from "vitest";
import type { HardwareProfile } from "../../../app/_schemas/hardware";
import {
  type Fit,
  type Recommendation,
  RecommendationSchema,
  type RecommendOptionsInput,
} from "../../../app/_schemas/recommend";
import { modelById } from "../../../app/lib/catalog/models";
import { nodeById } from "../../../app/lib/catalog/nodes";
import { cpuBandwidth, cpuClassOf, gpuBandwidth } from "../../../app/lib/recommend/calibration";
import { RecommendInputError, recommend, SYSTEM_RESERVE_BYTES } from "../../../app/lib/recommend/index";
import { bytesPerToken, kvBytes } from "../../../app/lib/recommend/llm";
import { FIXTURES, fixture } from "./fixtures";

const RANK: Record<Fit, number> = { unsuitable: 0, possible: 1, recommended: 2 };
const OLLAMA_RAM = nodeById("ollama")?.modes[0]?.needs.ramBytes ?? 0;

const SELECTIONS: RecommendOptionsInput[] = [
  {},
  { nodes: ["bitcoin-core"] },
  { nodes: ["bitcoin-core", "lnd", "electrs", "caddy", "nostr-relay"] },
  { nodes: ["monerod", "p2pool-xmrig"], models: ["llama3.2-1b"] },
  { nodes: ["bitcoin-core", "synapse"], models: ["qwen2.5-7b", "llama3.2-3b:Q8_0"] },
];

/** Everything recommended (or possible) fits in what is left; the chosen ones fit together. */
function assertFits(profile: HardwareProfile, r: Recommendation) {
  const b = r.budget;
  const chosenNodes = r.nodes.filter((n) => n.chosen);
  const chosenModels = r.models.filter((m) => m.chosen);
  // Chosen items keep their place in the budget even when they do not fit.
  expect(chosenNodes.reduce((s, n) => s + n.memoryBytes, 0)).toBe(b.nodesMemoryBytes);
  // Those that fit, fit together.
  const fitting = (x: { fit: Fit }) => x.fit !== "unsuitable";
  expect(
    SYSTEM_RESERVE_BYTES +
      chosenNodes.filter(fitting).reduce((s, n) => s + n.memoryBytes, 0) +
      chosenModels.filter(fitting).reduce((s, m) => s + m.ramBytes, 0),
  ).toBeLessThanOrEqual(profile.memory.totalBytes);
  expect(chosenModels.filter(fitting).reduce((s, m) => s + m.vramBytes, 0)).toBeLessThanOrEqual(b.vramBytes);
  expect(chosenNodes.filter(fitting).reduce((s, n) => s + n.diskBytes, 0)).toBeLessThanOrEqual(
    b.dataDisk?.usableBytes ?? 0,
  );
  if ([...chosenNodes, ...chosenModels].every(fitting)) {
    expect(b.freeMemoryBytes).toBeGreaterThanOrEqual(0);
    expect(b.freeVramBytes).toBeGreaterThanOrEqual(0);
    expect(b.freeDiskBytes).toBeGreaterThanOrEqual(0);
  }
  const nodeRam = profile.memory.totalBytes - SYSTEM_RESERVE_BYTES - b.nodesMemoryBytes;
  for (const n of r.nodes.filter((x) => !x.chosen && x.fit !== "unsuitable")) {
    expect(n.memoryBytes, n.id).toBeLessThanOrEqual(nodeRam);
    expect(n.diskBytes, n.id).toBeLessThanOrEqual((b.dataDisk?.usableBytes ?? 0) - b.nodesDiskBytes);
  }
  const ollamaChosen = r.nodes.some((n) => n.id === "ollama" && n.chosen && n.fit !== "unsuitable");
  for (const m of r.models.filter((x) => !x.chosen && x.fit !== "unsuitable")) {
    expect(m.ramBytes + (ollamaChosen ? 0 : OLLAMA_RAM), m.id).toBeLessThanOrEqual(b.freeMemoryBytes);
    expect(m.vramBytes, m.id).toBeLessThanOrEqual(b.freeVramBytes);
    expect(m.breakdown.weightsBytes, m.id).toBeLessThanOrEqual(b.freeDiskBytes);
    expect(m.memoryBytes).toBeGreaterThanOrEqual(
      m.breakdown.weightsBytes + m.breakdown.kvBytes + m.breakdown.computeBytes,
    );
  }
}

describe.each(FIXTURES)("recommend on %s", (file) => {
  const profile = fixture(file);

  it.each(SELECTIONS.map((s) => [JSON.stringify(s), s]))(
    "never recommends what cannot fit: %s",
    (_, selection) => {
      const r = recommend(profile, selection as RecommendOptionsInput);
      expect(RecommendationSchema.parse(r)).toEqual(r);
      assertFits(profile, r);
      for (const item of [...r.nodes, ...r.models]) {
        expect(item.reason.length).toBeGreaterThan(10);
        expect(item.reason).not.toMatch(/undefined|NaN|null/);
      }
    },
  );

  it("gives no worse a list when memory, GPU memory, disk or bandwidth grow", () => {
    const grow = (f: (p: HardwareProfile) => void) => {
      const p = structuredClone(profile);
      f(p);
      return p;
    };
    const bigger = [
      grow((p) => {
        p.memory.totalBytes *= 2;
      }),
      grow((p) => {
        p.memory.totalBytes += 1.5e9;
      }),
      grow((p) => {
        for (const d of p.disks) d.sizeBytes *= 2;
      }),
      grow((p) => {
        p.memory.bandwidthBytesPerSecond = cpuBandwidth(p) * 1.5;
      }),
      grow((p) => {
        for (const g of p.gpus) {
          if (g.vramBytes !== null) g.vramBytes += 8 * 1024 ** 3;
          g.memoryBandwidthBytesPerSecond = gpuBandwidth(g) * 1.5;
        }
      }),
    ];
    for (const selection of [SELECTIONS[0], SELECTIONS[2], SELECTIONS[4]]) {
      const base = recommend(profile, selection);
      for (const p of bigger) {
        const more = recommend(p, selection);
        for (const [i, n] of base.nodes.entries())
          expect(RANK[more.nodes[i]?.fit ?? "unsuitable"], n.id).toBeGreaterThanOrEqual(RANK[n.fit]);
        for (const [i, m] of base.models.entries()) {
          expect(RANK[more.models[i]?.fit ?? "unsuitable"], `${file} ${m.id}`).toBeGreaterThanOrEqual(
            RANK[m.fit],
          );
        }
      }
    }
  });
});

describe("reasons in plain words", () => {
  it("says how much is needed and how much is free after the chosen nodes", () => {
    const r = recommend(fixture("rpi4-8gb"), { nodes: ["bitcoin-core", "electrs"] });
    const llama8 = r.models.find((m) => m.id === "llama3.1-8b");
    expect(llama8?.fit).toBe("unsuitable");
    expect(llama8?.reason).toMatch(
      /^needs \d+(\.\d)? GB, \d+(\.\d)? GB free after the system, Bitcoin Core, Electrum server \(electrs\) and Ollama/,
    );
  });

  it("picks pruned Bitcoin Core when the full chain does not fit, and says why", () => {
    const r = recommend(fixture("n100-16gb"));
    const btc = r.nodes.find((n) => n.id === "bitcoin-core");
    expect(btc).toMatchObject({ fit: "recommended", mode: "pruned" });
    expect(btc?.reason).toMatch(/full needs 800 GB of disk/);
    expect(r.nodes.find((n) => n.id === "electrs")?.reason).toMatch(/needs Bitcoin Core \(full\)/);
  });

  it("warns about SD cards and refuses RandomX without AES", () => {
    const pi = recommend(fixture("rpi4-2gb"));
    expect(pi.nodes.find((n) => n.id === "continuwuity")?.reason).toMatch(/SD card/);
    const pi8 = recommend(fixture("rpi4-8gb"));
    expect(pi8.nodes.find((n) => n.id === "p2pool-xmrig")).toMatchObject({ fit: "unsuitable" });
    expect(recommend(fixture("rpi5-8gb")).nodes.find((n) => n.id === "p2pool-xmrig")?.reason).not.toMatch(
      /aes/,
    );
    expect(pi8.nodes.find((n) => n.id === "p2pool-xmrig")?.reason).toMatch(/aes instructions/);
  });

  it("keeps Mastodon from being recommended on small boxes", () => {
    expect(recommend(fixture("rpi5-8gb")).nodes.find((n) => n.id === "mastodon")?.fit).not.toBe(
      "recommended",
    );
  });

  it("refuses unknown ids with the list of known ones", () => {
    expect(() => recommend(fixture("rpi5-8gb"), { nodes: ["bitcoin"] })).toThrow(RecommendInputError);
    expect(() => recommend(fixture("rpi5-8gb"), { nodes: ["bitcoin"] })).toThrow(
      /unknown node 'bitcoin' \(known: bitcoin-core/,
    );
    expect(() => recommend(fixture("rpi5-8gb"), { models: ["llama3.1-8b:Q2_K"] })).toThrow(
      /invalid|no quantization/,
    );
  });

  it("adds dependencies of chosen nodes and budgets them", () => {
    const r = recommend(fixture("desktop-rtx3060"), { nodes: ["electrs"] });
    const btc = r.nodes.find((n) => n.id === "bitcoin-core");
    expect(btc).toMatchObject({ chosen: true, mode: "full" });
    expect(btc?.reason).toMatch(/^added for Electrum server/);
  });
});

describe("speed estimates against llm-sizing.md's reference points (tolerance ±15%)", () => {
  const TOLERANCE = 0.15;
  const cases: [string, string, "cpu" | "gpu", number, ((p: HardwareProfile) => void)?][] = [
    ["rpi4-8gb", "llama3.2-3b", "cpu", 1.6],
    ["rpi5-8gb", "llama3.2-3b", "cpu", 4.75],
    ["rpi5-8gb", "llama3.1-8b", "cpu", 2.2],
    ["rpi5-8gb", "qwen2.5-14b", "cpu", 1.2],
    ["n100-16gb", "llama3.2-3b", "cpu", 9.1],
    ["n100-16gb", "qwen2.5-14b", "cpu", 2.1],
    ["desktop-rtx3060", "llama3.2-3b", "gpu", 123],
    ["desktop-rtx3060", "qwen2.5-14b", "gpu", 29.8],
    ["server-h100", "llama3.1-8b", "gpu", 144],
    [
      "desktop-rtx3060",
      "llama3.2-3b",
      "gpu",
      335,
      (p) => Object.assign(p.gpus[0] ?? {}, { model: "NVIDIA GeForce RTX 4090" }),
    ],
    [
      "desktop-rtx3060",
      "qwen2.5-14b",
      "gpu",
      92.5,
      (p) => Object.assign(p.gpus[0] ?? {}, { model: "NVIDIA GeForce RTX 4090" }),
    ],
    ["n100-16gb", "llama3.2-3b", "cpu", 23.8, (p) => Object.assign(p.cpu, { model: "AMD Ryzen AI 5 340" })],
    ["n100-16gb", "qwen2.5-14b", "cpu", 5.8, (p) => Object.assign(p.cpu, { model: "AMD Ryzen AI 5 340" })],
  ];
  it.each(cases)("%s, %s Q4_K_M on the %s: %d tokens/s", (file, id, where, expected, tweak) => {
    const profile = fixture(file);
    tweak?.(profile);
    const model = modelById(id);
    if (!model) throw new Error(id);
    const gpu = profile.gpus[0];
    const bw = where === "cpu" ? cpuBandwidth(profile) : gpu ? gpuBandwidth(gpu) : 0;
    const tps = bw / bytesPerToken(model, "Q4_K_M", 4096);
    expect(Math.abs(tps / expected - 1)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("matches the device classes the fixtures are named for", () => {
    expect(cpuClassOf(fixture("rpi4-2gb")).id).toBe("rpi4");
    expect(cpuClassOf(fixture("rpi5-8gb")).id).toBe("rpi5");
    expect(cpuClassOf(fixture("n100-16gb")).id).toBe("intel-n");
    expect(cpuClassOf(fixture("server-h100")).id).toBe("server-x86");
  });
});

describe("KV cache per 1k tokens (f16) as in llm-sizing.md", () => {
  const MiB = 1024 * 1024;
  it.each([
    ["qwen2.5-0.5b", 12],
    ["qwen2.5-7b", 56],
    ["qwen2.5-14b", 192],
    ["qwen3-0.6b", 112],
    ["qwen3-14b", 160],
    ["llama3.2-1b", 32],
    ["llama3.1-8b", 128],
    ["llama3.3-70b", 320],
    ["phi3.5-mini", 384],
    ["phi4", 200],
    ["smollm2-135m", 22.5],
  ] as const)("%s: %d MiB", (id, mib) => {
    const model = modelById(id);
    if (!model) throw new Error(id);
    expect(kvBytes(model.arch, 1024) / MiB).toBeCloseTo(mib, 0);
  });

  it("keeps only the window on Gemma 3's sliding-window layers", () => {
    const gemma = modelById("gemma3-12b");
    if (!gemma) throw new Error("gemma3-12b");
    const full = 2 * gemma.arch.layers * gemma.arch.kvHeads * gemma.arch.headDim * 2 * 32768;
    expect(kvBytes(gemma.arch, 32768)).toBeLessThan(full / 4);
    expect(kvBytes(gemma.arch, 1024) / MiB).toBeCloseTo(384, 0);
  });
});

describe("energy", () => {
  it("costs kWh × price and reports the mining heat", () => {
    const r = recommend(fixture("n100-16gb"), { nodes: ["monerod", "p2pool-xmrig"], priceKwh: 0.4 });
    const e = r.energy;
    expect(e.monthlyKwh).toBeCloseTo((e.averageWatts * 730) / 1000, 0);
    expect(e.monthlyCost).toBeCloseTo(e.monthlyKwh * 0.4, 1);
    expect(e.miningHeatWatts).toBeGreaterThan(10);
    expect(e.averageWatts).toBeLessThanOrEqual(e.loadedWatts);
    expect(e.note).toMatch(/heat/);
    const idle = recommend(fixture("n100-16gb")).energy;
    expect(idle.averageWatts).toBe(idle.idleWatts);
    expect(idle.miningHeatWatts).toBeNull();
  });

  it("draws more for a GPU box than for a Pi", () => {
    expect(recommend(fixture("desktop-rtx3060")).energy.idleWatts).toBeGreaterThan(
      recommend(fixture("rpi5-8gb")).energy.idleWatts * 5,
    );
  });
});
