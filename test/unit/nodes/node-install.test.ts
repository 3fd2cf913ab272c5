import { describe, expect, it } from "vitest";
import type { CatalogNode } from "../../../app/_schemas/catalog";
import { BITCOIN_CONF, PASSWORD_FILE, rpcauthMatches } from "../../../app/agent/ops/bitcoin-rpc";
import { MOUNTPOINT } from "../../../app/agent/ops/data-volume";
import type { Probes } from "../../../app/agent/ops/node-health";
import { makeNodeInstall, nodeInstall, nodeStatePath } from "../../../app/agent/ops/node-install";
import { envFilePath } from "../../../app/agent/ops/node-units";
import { NODES } from "../../../app/lib/catalog/nodes";
import { RELEASES } from "../../../app/lib/catalog/releases";
import { expectPreviewFollowed, RecordingHost } from "../agent/recording-host";

const verified = NODES.map((n) => ({
  ...n,
  install: n.install.map((i) => (i.kind === "oci" ? { ...i, digestStatus: "verified" as const } : i)),
})) as CatalogNode[];

/** A box: dpkg, systemd and the data volume as state the commands change. */
function box(opts: { reachable?: Set<number> } = {}) {
  const installed = new Set<string>();
  const active = new Set<string>();
  const enabled = new Set<string>();
  const reachable = opts.reachable ?? new Set<number>();
  const host = new RecordingHost()
    .on(["dpkg", "--print-architecture"], { stdout: "amd64\n" })
    .on(["findmnt"], { stdout: `/dev/mapper/freehold-data ext4 uuid\n` })
    .on(["dpkg-query"], (argv) => (installed.has(argv.at(-1) ?? "") ? { stdout: "installed" } : { code: 1 }))
    .on(["apt-get", "install"], (argv) => {
      for (const pkg of argv.slice(argv.indexOf("--") + 1)) installed.add(pkg);
      return {};
    })
    .on(["systemctl", "is-active", "--"], (argv) => ({ code: active.has(argv[3] ?? "") ? 0 : 3 }))
    .on(["systemctl", "is-enabled", "--"], (argv) => ({ code: enabled.has(argv[3] ?? "") ? 0 : 1 }))
    .on(["systemctl", "enable", "--now", "--"], (argv) => {
      enabled.add(argv[4] ?? "");
      active.add(argv[4] ?? "");
      return {};
    })
    .on(["systemctl", "start", "--"], (argv) => {
      active.add(argv[3] ?? "");
      return {};
    });
  const probes: Probes = {
    tcp: async (p) => reachable.has(p),
    http: async (p) => (reachable.has(p) ? 200 : null),
    sleep: async () => {},
  };
  const op = makeNodeInstall({
    nodes: verified,
    probes,
    download: async () => "",
    releases: RELEASES,
    healthAttempts: 2,
    healthIntervalMs: 1,
  });
  return { host, op, installed, active, reachable };
}

const READS = [
  ["dpkg"],
  ["findmnt"],
  ["dpkg-query"],
  ["systemctl", "is-active"],
  ["systemctl", "is-enabled"],
  ["install"],
];

describe("node.install", () => {
  it("refuses the catalog's placeholder digests before changing anything", async () => {
    const { host } = box();
    await expect(nodeInstall.run({ id: "bitcoin-core" }, {}, host)).rejects.toThrow(
      /placeholder.*refusing to run an unverified image/,
    );
    expect(host.changes(READS)).toEqual([]);
    await expect(nodeInstall.run({ id: "ollama" }, {}, box().host)).rejects.toThrow(/placeholder/);
  });

  it("installs a Debian node with apt (noninteractive), enables its unit, checks it; a second run changes nothing", async () => {
    const { host, op, reachable } = box();
    reachable.add(80);
    const outcome = await op.run({ id: "caddy" }, {}, host);
    expect(outcome).toMatchObject({ changed: true, verified: true, detail: { units: "caddy.service" } });
    expect(host.lines()).toContain("apt-get install -y --no-install-recommends -- caddy");
    expect(host.lines()).toContain("systemctl enable --now -- caddy.service");
    expectPreviewFollowed(op.preview({ id: "caddy" }), host.calls);
    host.reset();
    expect(await op.run({ id: "caddy" }, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(host.lines()).not.toContain("apt-get install -y --no-install-recommends -- caddy");
  });

  it("installs what a Debian node cannot start without in the same apt call (unbound: the root trust anchor)", async () => {
    const { host, op, installed } = box();
    expect(await op.run({ id: "unbound" }, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toContain("apt-get install -y --no-install-recommends -- unbound dns-root-data");
    expectPreviewFollowed(op.preview({ id: "unbound" }), host.calls);
    // A box where unbound came without it (and so never started): the retry adds just that.
    const retry = box();
    retry.installed.add("unbound");
    await retry.op.run({ id: "unbound" }, {}, retry.host);
    expect(retry.host.lines()).toContain("apt-get install -y --no-install-recommends -- dns-root-data");
    expect(installed.has("dns-root-data")).toBe(true);
  });

  it("reports verified: false with the problem when the node does not answer", async () => {
    const { host, op } = box();
    const outcome = await op.run({ id: "caddy" }, {}, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toMatch(/nothing answers on TCP 127\.0\.0\.1:80/);
  });

  it("starts Bitcoin Core from a quadlet with rpcauth; LND waits for its RPC, then gets the password in its env file only", async () => {
    const { host, op, reachable } = box();
    expect(await op.run({ id: "bitcoin-core", mode: "pruned" }, {}, host)).toMatchObject({
      changed: true,
      verified: false,
    });
    const password = host.files.get(PASSWORD_FILE)?.content.trim() ?? "";
    expect(password.length).toBeGreaterThanOrEqual(40);
    expect(host.files.get(PASSWORD_FILE)?.mode).toBe(0o600);
    const conf = host.files.get(BITCOIN_CONF)?.content ?? "";
    expect(conf).toContain("prune=5000");
    expect(
      rpcauthMatches(conf.split("\n").find((l) => l.startsWith("rpcauth=")) ?? "", "freehold", password),
    ).toBe(true);
    expect(host.lines()).toEqual(
      expect.arrayContaining(["systemctl daemon-reload", "systemctl start -- freehold-bitcoin-core.service"]),
    );
    expect(host.files.get("/etc/containers/systemd/freehold-bitcoin-core.container")?.content).toContain(
      "PublishPort=127.0.0.1:8332:8332",
    );
    expect(host.files.get(nodeStatePath("bitcoin-core"))?.content).toContain('"mode":"pruned"');

    // RPC not reachable yet: LND is refused, nothing written for it.
    host.reset();
    await expect(op.run({ id: "lnd" }, {}, host)).rejects.toThrow(
      /needs Bitcoin Core running and reachable first: nothing answers on TCP 127\.0\.0\.1:8332/,
    );
    expect(host.files.has(envFilePath("lnd"))).toBe(false);
    // electrs needs the full chain.
    reachable.add(8332);
    await expect(op.run({ id: "electrs" }, {}, host)).rejects.toThrow(/in mode full, not pruned/);

    reachable.add(10009);
    const conf1 = host.files.get(BITCOIN_CONF)?.content;
    expect(await op.run({ id: "lnd" }, {}, host)).toMatchObject({ changed: true, verified: true });
    const env = host.files.get(envFilePath("lnd"));
    expect(env?.mode).toBe(0o600);
    expect(env?.content).toContain(`BITCOIN_RPC_PASSWORD=${password}\n`);
    expect(host.files.get("/etc/containers/systemd/freehold-lnd.container")?.content).toContain(
      `EnvironmentFile=${MOUNTPOINT}/.secrets/lnd.env`,
    );
    expect(JSON.stringify(host.calls.filter((c) => !c.writes))).not.toContain(password);
    expect(JSON.stringify(host.messages)).not.toContain(password);
    // A second Bitcoin Core run keeps the password and its rpcauth line.
    host.reset();
    await op.run({ id: "bitcoin-core", mode: "pruned" }, {}, host);
    expect(host.files.get(BITCOIN_CONF)?.content).toBe(conf1);
    expect(host.lines().filter((l) => l.startsWith("write"))).toEqual([]);
  });

  it("refuses an onion service without tor, and a mode the node lacks", async () => {
    const { host, op, installed } = box();
    await expect(op.run({ id: "caddy", mode: "turbo" }, {}, host)).rejects.toThrow(/no mode "turbo"/);
    await expect(op.run({ id: "monerod", onion: true }, {}, host)).rejects.toThrow(/need the tor node/);
    installed.add("tor");
    await expect(op.run({ id: "caddy", onion: true }, {}, host)).rejects.toThrow(
      /serves nothing as an onion service/,
    );
  });
});
