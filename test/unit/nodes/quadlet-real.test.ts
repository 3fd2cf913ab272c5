import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CatalogNode, LocalNodeSchema } from "../../../app/_schemas/catalog";
import { MOUNT_UNIT, mountUnit } from "../../../app/agent/ops/data-volume";
import { renderNetwork, renderQuadlet } from "../../../app/agent/ops/node-quadlet";
import { containerUnitBase, type OciInstall } from "../../../app/agent/ops/node-units";
import { NODES } from "../../../app/lib/catalog/nodes";
import { localNodeEntry } from "../../../image/hello-web";
import { quadletTool, type Tool } from "./debian-tools";

/**
 * The quadlets node.install writes, read by podman's own generator: trixie's quadlet binary in
 * -dryrun mode turns each .container into the .service systemd would get. The tool is fetched
 * with apt (see debian-tools.ts); the suite skips, saying why, only when that download fails.
 */

const verified = (n: CatalogNode): CatalogNode => ({
  ...n,
  install: n.install.map((i) => (i.kind === "oci" ? { ...i, digestStatus: "verified" as const } : i)),
});
const nodes = NODES.map(verified);
const containers = nodes.flatMap((node) =>
  node.install.filter((i): i is OciInstall => i.kind === "oci").map((install) => ({ node, install })),
);

let tool: Tool = { skip: "not fetched yet" };
const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-quadlet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  tool = await quadletTool();
  if ("skip" in tool) console.warn(`SKIPPED: real quadlet checks: ${tool.skip}`);
}, 300_000);

function dryrun(unitDir: string) {
  if ("skip" in tool) throw new Error(tool.skip);
  return spawnSync(tool.path, ["-dryrun"], {
    env: { ...process.env, QUADLET_UNIT_DIRS: unitDir },
    encoding: "utf8",
  });
}

/** "---name.service---\n...": the generated units by name. */
function units(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = stdout.split(/^---(\S+)---$/m);
  for (let i = 1; i < parts.length; i += 2) out.set(parts[i] ?? "", parts[i + 1] ?? "");
  return out;
}

describe("quadlets under podman's generator (trixie's quadlet -dryrun)", () => {
  it("turns every OCI node of the catalog into a service, without errors", (ctx) => {
    if ("skip" in tool) return ctx.skip(tool.skip);
    const unitDir = path.join(dir, "all");
    mkdirSync(unitDir);
    writeFileSync(path.join(unitDir, "freehold.network"), renderNetwork());
    for (const { node, install } of containers) {
      const after = node.dependsOn.map((d) => `freehold-${d.node}.service`);
      writeFileSync(
        path.join(unitDir, `${containerUnitBase(node, install)}.container`),
        renderQuadlet(node, install, { after }),
      );
    }
    const r = dryrun(unitDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/error|unsupported key|converting/i);
    const generated = units(r.stdout);
    expect(generated.has("freehold-network.service")).toBe(true);
    for (const { node, install } of containers) {
      const name = `${containerUnitBase(node, install)}.service`;
      const unit = generated.get(name);
      expect(unit, name).toBeDefined();
      const execStart = unit?.split("\n").find((l) => l.startsWith("ExecStart=")) ?? "";
      expect(execStart, name).toContain(`${install.image}@${install.digest}`);
      expect(execStart, name).toContain("--security-opt=no-new-privileges");
      expect(execStart.includes("--read-only"), name).toBe(!install.writableRoot);
      expect(execStart, name).toContain("--network freehold");
      expect(unit, name).toMatch(/^Requires=.*srv-freehold\.mount/m);
      for (const port of node.ports.filter((p) => !install.ports || install.ports.includes(p.port))) {
        const publish = `${port.exposure === "localhost" ? "127.0.0.1:" : ""}${port.port}:${port.port}${port.protocol === "udp" ? "/udp" : ""}`;
        expect(execStart, `${name} ${publish}`).toContain(`--publish ${publish}`);
      }
      if (install.healthCmd) expect(execStart).toContain("--health-cmd");
      if (install.onDemand) expect(unit).not.toMatch(/WantedBy=/);
      else expect(unit).toMatch(/^WantedBy=srv-freehold\.mount$/m);
    }
    const btc = generated.get("freehold-bitcoin-core.service") ?? "";
    expect(btc).toContain("--publish 127.0.0.1:8332:8332");
    expect(btc).not.toMatch(/--publish 8332/);
    const lnd = generated.get("freehold-lnd.service") ?? "";
    expect(lnd).toMatch(/^Requires=.*freehold-bitcoin-core\.service/m);
    expect(lnd).toMatch(/^After=.*freehold-bitcoin-core\.service/m);
  });

  it("runs a local node's image, loaded from its archive, by digest and never pulls it", (ctx) => {
    if ("skip" in tool) return ctx.skip(tool.skip);
    const digest = `sha256:${"d".repeat(64)}`;
    const node = LocalNodeSchema.parse(
      localNodeEntry({ archivePath: "/var/lib/freehold-local/hello-web.oci.tar", digest }),
    ) as CatalogNode;
    const install = node.install[0] as OciInstall;
    const unitDir = path.join(dir, "local");
    mkdirSync(unitDir);
    writeFileSync(path.join(unitDir, "freehold.network"), renderNetwork());
    writeFileSync(
      path.join(unitDir, "freehold-hello-web.container"),
      renderQuadlet(node, install, { after: [] }),
    );
    const r = dryrun(unitDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/error|unsupported key|converting/i);
    const unit = units(r.stdout).get("freehold-hello-web.service") ?? "";
    const execStart = unit.split("\n").find((l) => l.startsWith("ExecStart=")) ?? "";
    expect(execStart).toContain("--pull never");
    expect(execStart).toContain(`localhost/freehold/hello-web@${digest}`);
    expect(execStart).toContain("--publish 8080:8080");
  });

  it("would catch a broken quadlet (the check can fail)", (ctx) => {
    if ("skip" in tool) return ctx.skip(tool.skip);
    const unitDir = path.join(dir, "broken");
    mkdirSync(unitDir);
    writeFileSync(path.join(unitDir, "bad.container"), "[Container]\nPublishPort=127.0.0.1:1:1\n");
    const r = dryrun(unitDir);
    expect(`${r.status} ${r.stderr}`).toMatch(/Image|image/);
    expect(units(r.stdout).has("bad.service")).toBe(false);
  });

  it("passes systemd-analyze verify where its binaries exist", (ctx) => {
    if ("skip" in tool) return ctx.skip(tool.skip);
    const analyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
    if (analyze.status !== 0) return ctx.skip("systemd-analyze is not installed");
    const unitDir = path.join(dir, "verify");
    mkdirSync(unitDir);
    const [first] = containers;
    if (!first) throw new Error("no OCI node");
    writeFileSync(path.join(unitDir, "freehold.network"), renderNetwork());
    writeFileSync(
      path.join(unitDir, `${containerUnitBase(first.node, first.install)}.container`),
      renderQuadlet(first.node, first.install, { after: [] }),
    );
    const r = dryrun(unitDir);
    const out = path.join(dir, "units");
    mkdirSync(out);
    for (const [name, text] of units(r.stdout)) writeFileSync(path.join(out, name), text);
    // The data volume's mount unit as volume.encrypt writes it, beside the generated units.
    writeFileSync(
      path.join(out, MOUNT_UNIT),
      mountUnit("/dev/disk/by-uuid/0f0e0d0c-0000-4000-8000-000000000000", true),
    );
    const service = path.join(out, `${containerUnitBase(first.node, first.install)}.service`);
    const v = spawnSync("systemd-analyze", ["verify", "--man=no", service], { encoding: "utf8" });
    // podman itself is not installed on the test host (Debian 12's would be too old anyway):
    // the one finding that is expected and ignored, named in the output.
    const lines = v.stderr.split("\n").filter(Boolean);
    const podmanMissing = /Command \/usr\/bin\/podman is not executable/;
    if (lines.some((l) => podmanMissing.test(l)))
      console.warn(
        "systemd-analyze verify: ExecStart=/usr/bin/podman is missing on this host; that finding is ignored",
      );
    expect(
      lines.filter((l) => !podmanMissing.test(l)),
      v.stderr,
    ).toEqual([]);
  });
});
