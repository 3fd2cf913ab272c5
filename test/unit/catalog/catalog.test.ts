import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ModelCatalogSchema, NodeCatalogSchema } from "../../../app/_schemas/catalog";
import { MODELS } from "../../../app/lib/catalog/models";
import { NODES } from "../../../app/lib/catalog/nodes";

const run = promisify(execFile);

describe("the node catalog", () => {
  it("passes its schema and covers what the issue asks for", () => {
    expect(NodeCatalogSchema.parse(NODES)).toEqual(NODES);
    const ids = NODES.map((n) => n.id);
    for (const id of [
      "bitcoin-core",
      "lnd",
      "electrs",
      "monerod",
      "p2pool-xmrig",
      "nostr-relay",
      "continuwuity",
      "synapse",
      "kubo",
      "gotosocial",
      "mastodon",
      "caddy",
      "unbound",
      "adguard-home",
      "tor",
      "ollama",
    ]) {
      expect(ids).toContain(id);
    }
    const btc = NODES.find((n) => n.id === "bitcoin-core");
    expect(btc?.modes.map((m) => m.id)).toEqual(["full", "pruned"]);
    expect(NODES.find((n) => n.id === "mastodon")?.heavy).toBe(true);
  });

  it("names a source for every requirement figure and something to back up", () => {
    for (const node of NODES) {
      for (const mode of node.modes) {
        for (const source of Object.values(mode.sources)) expect(source).toMatch(/^https:\/\//);
      }
      expect(node.backup.length, node.id).toBeGreaterThan(0);
      expect(node.dataDirs.length, node.id).toBeGreaterThan(0);
    }
  });

  it("marks every OCI digest as a placeholder until the nodes issue records the real ones", () => {
    const images = NODES.flatMap((n) => n.install).filter((i) => i.kind === "oci");
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      if (image.kind !== "oci") continue;
      expect(image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(image.digestStatus).toBe("placeholder");
    }
  });

  it("never opens an admin interface to the internet", () => {
    for (const node of NODES) {
      for (const port of node.ports) {
        if (/RPC|admin|API/i.test(port.purpose))
          expect(port.exposure, `${node.id}:${port.port}`).not.toBe("public");
      }
    }
  });

  it("installs only Debian packages that exist (checked in this host's apt lists when it has them)", async () => {
    const packages = [
      ...new Set(NODES.flatMap((n) => n.install).flatMap((i) => (i.kind === "debian" ? [i.package] : []))),
    ];
    expect(packages.sort()).toEqual(["caddy", "monero", "postgresql", "redis-server", "tor", "unbound"]);
    const probe = await run("apt-cache", ["policy", "--", "bash"]).catch(() => null);
    if (!probe || /Candidate: \(none\)/.test(probe.stdout) || !/Candidate:/.test(probe.stdout)) return;
    const { stdout } = await run("apt-cache", ["policy", "--", ...packages]);
    // One block per package: "name:\n  Installed: ...\n  Candidate: ...".
    for (const pkg of packages) {
      const block = new RegExp(`^${pkg}:\\n(?:\\s+.*\\n)*?\\s+Candidate: (.*)$`, "m").exec(stdout);
      expect(block?.[1], pkg).toBeDefined();
      expect(block?.[1], pkg).not.toBe("(none)");
    }
  });
});

describe("the model catalog", () => {
  it("passes its schema and offers Q4_K_M, Q5_K_M and Q8_0 of every model, bigger for more bits", () => {
    expect(ModelCatalogSchema.parse(MODELS)).toEqual(MODELS);
    expect(MODELS.length).toBeGreaterThanOrEqual(30);
    for (const model of MODELS) {
      const bytes = model.quants.map((q) => q.bytes);
      expect(
        [...bytes].sort((a, b) => a - b),
        model.id,
      ).toEqual(bytes);
      expect(model.quants.filter((q) => q.sizeFrom === "ollama")).toHaveLength(
        model.quants.some((q) => q.sizeFrom === "ollama") ? 1 : 0,
      );
    }
  });

  it("keeps Llama 3.1 8B's sizes close to the published files (4.58 GiB Q4_K_M, 7.95 GiB Q8_0)", () => {
    const llama = MODELS.find((m) => m.id === "llama3.1-8b");
    const GiB = 1024 ** 3;
    expect((llama?.quants.find((q) => q.quant === "Q4_K_M")?.bytes ?? 0) / GiB).toBeCloseTo(4.58, 1);
    expect((llama?.quants.find((q) => q.quant === "Q8_0")?.bytes ?? 0) / GiB).toBeCloseTo(7.95, 0);
  });
});
