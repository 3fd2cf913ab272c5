import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { parseHardwareProfile } from "../../app/_schemas/hardware";
import type { Recommendation } from "../../app/_schemas/recommend";
import { formatBytes } from "../../app/lib/format";
import { recommend } from "../../app/lib/recommend/index";

const MAX_PROFILE_BYTES = 1024 * 1024;

interface Options {
  hardware: string;
  json?: boolean;
  nodes?: string;
  models?: string;
  priceKwh?: string;
  context?: string;
  llmHours?: string;
}

/** Reads and checks a profile file; every failure is one clear sentence naming the file or field. */
export async function readProfileFile(file: string) {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new Error(`${file}: no such file`);
  if (info.size > MAX_PROFILE_BYTES) throw new Error(`${file}: larger than 1 MiB, not a hardware profile`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseHardwareProfile(json, `hardware profile ${file}`);
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name}: expected a number, got '${value}'`);
  return n;
}

export function registerRecommend(program: Command): void {
  program
    .command("recommend")
    .description("Recommend nodes and LLMs for a hardware profile (from `freehold detect --json`)")
    .requiredOption("--hardware <file>", "the hardware profile JSON")
    .option("--json", "print JSON (the schema in app/_schemas/recommend.ts)")
    .option("--nodes <ids>", "nodes you chose, comma-separated: they are budgeted together")
    .option("--models <ids>", "models you chose (id or id:QUANT), comma-separated")
    .option("--price-kwh <price>", "electricity price per kWh", "0.30")
    .option("--context <tokens>", "a fixed context length for every model")
    .option("--llm-hours <hours>", "hours a day a chosen model is generating", "1")
    .action(async (options: Options) => {
      const profile = await readProfileFile(options.hardware);
      const result = recommend(profile, {
        nodes: list(options.nodes),
        models: list(options.models),
        priceKwh: number("price-kwh", options.priceKwh),
        contextTokens: number("context", options.context) ?? null,
        llmHoursPerDay: number("llm-hours", options.llmHours),
      });
      if (options.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      console.log(renderTable(result));
    });
}

const FIT_MARK = {
  recommended: "✔ recommended",
  possible: "~ possible",
  unsuitable: "✘ unsuitable",
} as const;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The readable form: device, budget, nodes, models, energy. */
export function renderTable(r: Recommendation): string {
  const b = r.budget;
  const out: string[] = [];
  out.push(
    `Device   ${r.device.label}: memory ${formatBytes(b.memoryBytes)} (${formatBytes(b.freeMemoryBytes)} free after the system` +
      `${b.nodesMemoryBytes + b.modelsMemoryBytes > 0 ? " and your choices" : ""})` +
      (b.vramBytes > 0 ? `, GPU memory ${formatBytes(b.vramBytes)}` : "") +
      (b.dataDisk ? `, data on ${b.dataDisk.path} (${formatBytes(b.freeDiskBytes)} free)` : ", no data disk"),
  );
  out.push("", "Nodes");
  out.push(
    table([
      ["", "node", "mode", "memory", "disk", "why"],
      ...r.nodes.map((n) => [
        FIT_MARK[n.fit],
        `${n.name}${n.chosen ? " *" : ""}`,
        n.mode ?? "",
        formatBytes(n.memoryBytes),
        formatBytes(n.diskBytes),
        n.reason,
      ]),
    ]),
  );
  out.push("", "Models");
  out.push(
    table([
      ["", "model", "quant", "context", "memory", "tokens/s", "why"],
      ...r.models.map((m) => [
        FIT_MARK[m.fit],
        `${m.name}${m.chosen ? " *" : ""}`,
        m.quant,
        String(m.contextTokens),
        formatBytes(m.memoryBytes),
        String(m.tokensPerSecond),
        m.reason,
      ]),
    ]),
  );
  const e = r.energy;
  out.push(
    "",
    `Energy   idle ${e.idleWatts} W, fully loaded ${e.loadedWatts} W; with your choices about ${e.averageWatts} W on average: ` +
      `${e.monthlyKwh} kWh a month, ${e.monthlyCost.toFixed(2)} at ${e.priceKwh} per kWh.`,
    `         ${e.note}`,
  );
  if (r.nodes.some((n) => n.chosen) || r.models.some((m) => m.chosen))
    out.push("", "* chosen (with --nodes/--models)");
  return out.join("\n");
}
