import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layerTotals, makeModelPull, normalTag } from "../../../app/agent/ops/model-pull";
import { RecordingHost } from "../agent/recording-host";

/**
 * model.pull against a tiny fake Ollama on 127.0.0.1. A fake because no model hub is reachable from
 * here: it answers /api/version, /api/tags and streams /api/pull as NDJSON the way Ollama does
 * (status lines, then per-layer digest/total/completed, then "success"). The client is the real
 * `ollama` npm package.
 */

const LAYERS = [
  { digest: "sha256:aaaa", total: 4_000_000 },
  { digest: "sha256:bbbb", total: 1_000 },
];
let tags: string[] = [];
let fail = false;
let pulls = 0;
let server: http.Server;
let url = "";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const json = (body: unknown) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/api/version") return json({ version: "0.12.6" });
    if (req.url === "/api/tags")
      return json({ models: tags.map((name) => ({ name, model: name, size: 1, digest: "x", details: {} })) });
    if (req.url === "/api/pull" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        pulls++;
        // ollama-js sends the model as "name" (the API accepts "model" too).
        const { name, model = name } = JSON.parse(body) as { name?: string; model?: string };
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        const lines: unknown[] = [{ status: "pulling manifest" }];
        for (const l of LAYERS)
          for (const part of [0, 0.25, 0.5, 1])
            lines.push({
              status: `pulling ${l.digest.slice(7)}`,
              digest: l.digest,
              total: l.total,
              completed: Math.round(l.total * part),
            });
        if (fail) lines.push({ error: "max retries exceeded: connection reset" });
        else
          lines.push(
            { status: "verifying sha256 digest" },
            { status: "writing manifest" },
            { status: "success" },
          );
        for (const line of lines) res.write(`${JSON.stringify(line)}\n`);
        if (!fail && model) tags.push(normalTag(model));
        res.end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

const input = { id: "qwen2.5-0.5b", quant: "Q4_K_M" as const, ollama: "qwen2.5:0.5b" };

function op() {
  let t = 0;
  return makeModelPull({ ollamaUrl: url, now: () => (t += 1500) });
}

describe("model.pull", () => {
  it("pulls with progress (bytes, rate, ETA), verifies the tag is listed; a second run changes nothing", async () => {
    tags = [];
    fail = false;
    const host = new RecordingHost();
    const transfers = host.transfers;
    const outcome = await op().run(input, {}, host);
    expect(outcome).toMatchObject({
      changed: true,
      verified: true,
      detail: { tag: "qwen2.5:0.5b", bytes: 4_001_000 },
    });
    expect(transfers.length).toBeGreaterThan(3);
    expect(transfers.at(-1)).toMatchObject({ doneBytes: 4_001_000, totalBytes: 4_001_000, etaSeconds: 0 });
    expect(transfers.some((t) => t.bytesPerSecond !== null)).toBe(true);
    expect(host.messages.some((m) => /qwen2\.5:0\.5b: success/.test(m))).toBe(true);
    expect(host.calls).toEqual([]); // no commands: everything goes through Ollama's API
    const before = pulls;
    expect(await op().run(input, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(pulls).toBe(before);
  });

  it("fails with Ollama's error when the stream reports one", async () => {
    tags = [];
    fail = true;
    await expect(op().run({ ...input, ollama: "llama3.2:1b" }, {}, new RecordingHost())).rejects.toThrow(
      /could not pull llama3\.2:1b: max retries exceeded/,
    );
    fail = false;
  });

  it("says to install Ollama first when nothing answers", async () => {
    const pull = makeModelPull({ ollamaUrl: "http://127.0.0.1:9", now: Date.now });
    await expect(pull.run(input, {}, new RecordingHost())).rejects.toThrow(/Ollama does not answer/);
  });

  it("sums layers and treats a bare name as :latest", () => {
    expect(
      layerTotals(
        new Map([
          ["a", { total: 10, completed: 4 }],
          ["b", { total: 5, completed: 9 }],
        ]),
      ),
    ).toEqual({ done: 9, total: 15 });
    expect(layerTotals(new Map())).toEqual({ done: 0, total: null });
    expect(normalTag("qwen2.5")).toBe("qwen2.5:latest");
  });
});
