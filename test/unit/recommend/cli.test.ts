import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { HardwareProfileSchema } from "../../../app/_schemas/hardware";
import { RecommendationSchema } from "../../../app/_schemas/recommend";
import { FIXTURE_DIR, FIXTURES } from "./fixtures";

const run = promisify(execFile);
const freehold = (args: string[]) =>
  run(process.execPath, ["scripts/freehold.mjs", ...args], { maxBuffer: 16 * 1024 * 1024 });
const dir = mkdtempSync(path.join(tmpdir(), "freehold-recommend-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Failure = { code: number; stderr: string; stdout: string };
const fails = (args: string[]) =>
  freehold(args).then(
    () => null,
    (e: Failure) => e,
  );

describe("freehold recommend", () => {
  it.each(FIXTURES)("prints JSON that passes the schema for %s", async (file) => {
    const { stdout } = await freehold(["recommend", "--hardware", path.join(FIXTURE_DIR, file), "--json"]);
    const r = RecommendationSchema.parse(JSON.parse(stdout));
    expect(r.nodes.length).toBeGreaterThan(10);
    expect(r.models.length).toBeGreaterThan(20);
    for (const m of r.models)
      expect(Object.keys(m)).toEqual(
        expect.arrayContaining([
          "id",
          "quant",
          "contextTokens",
          "memoryBytes",
          "tokensPerSecond",
          "fit",
          "reason",
        ]),
      );
  });

  it("budgets chosen nodes and prints a readable table with energy", async () => {
    const { stdout } = await freehold([
      "recommend",
      "--hardware",
      path.join(FIXTURE_DIR, "rpi5-8gb.json"),
      "--nodes",
      "bitcoin-core,lnd",
      "--models",
      "llama3.2-3b",
      "--price-kwh",
      "0.25",
    ]);
    expect(stdout).toMatch(/^Device\s+Raspberry Pi 5/m);
    expect(stdout).toMatch(/Bitcoin Core \*/);
    expect(stdout).toMatch(/Llama 3\.2 3B \*/);
    expect(stdout).toMatch(/kWh a month, \d+\.\d\d at 0\.25 per kWh/);
  });

  it("recommends for this machine's own profile", async () => {
    const { stdout: profile } = await freehold(["detect", "--json"]);
    HardwareProfileSchema.parse(JSON.parse(profile));
    const file = path.join(dir, "this.json");
    writeFileSync(file, profile);
    const { stdout } = await freehold(["recommend", "--hardware", file, "--json"]);
    expect(() => RecommendationSchema.parse(JSON.parse(stdout))).not.toThrow();
  });

  it("rejects an invalid profile naming the bad field, without a stack trace", async () => {
    const file = path.join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        arch: "riscv64",
        board: null,
        cpu: { model: null, cores: 4, threads: 4, mhz: null, flags: [] },
        memory: { totalBytes: "8 GB" },
        gpus: [],
        disks: [
          { path: "/etc/passwd", model: null, sizeBytes: 1, kind: "sd", removable: false, system: true },
        ],
        tpm: false,
      }),
    );
    const failure = await fails(["recommend", "--hardware", file]);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/invalid hardware profile/);
    expect(failure?.stderr).toMatch(/^arch: /m);
    expect(failure?.stderr).toMatch(/^memory\.totalBytes: /m);
    expect(failure?.stderr).toMatch(/^disks\.0\.path: a \/dev path/m);
    expect(failure?.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("rejects what is not JSON, a missing file, an unknown node and a bad number", async () => {
    const notJson = path.join(dir, "x.json");
    writeFileSync(notJson, "arch: amd64\n");
    expect((await fails(["recommend", "--hardware", notJson]))?.stderr).toMatch(/not valid JSON/);
    expect((await fails(["recommend", "--hardware", path.join(dir, "nope.json")]))?.stderr).toMatch(
      /no such file/,
    );
    const pi = path.join(FIXTURE_DIR, "rpi5-8gb.json");
    expect((await fails(["recommend", "--hardware", pi, "--nodes", "bitcoin"]))?.stderr).toMatch(
      /unknown node 'bitcoin'/,
    );
    expect((await fails(["recommend", "--hardware", pi, "--price-kwh", "cheap"]))?.stderr).toMatch(
      /--price-kwh: expected a number/,
    );
  });
});
