import { z } from "zod";
import { type Arch, ArchSchema, type CatalogNode, type Release } from "../../_schemas/catalog";
import { OpInputSchemas } from "../../_schemas/ops";
import { catalogNodes } from "../../lib/catalog/local";
import { RELEASES } from "../../lib/catalog/releases";
import { type Command, runs, writes } from "../command";
import { type Host, OpError } from "../host";
import { AGENT_STATE_DIR } from "../paths";
import {
  BITCOIN_CONF,
  BITCOIN_NODE,
  dependsOnBitcoin,
  ensureBitcoinRpc,
  ensureDependentEnv,
  PASSWORD_FILE,
} from "./bitcoin-rpc";
import { ensureFile, type PlanAgentOp, unitIs } from "./common";
import { mountedAt } from "./data-volume";
import { nodeProblems, type Probes, realProbes, waitHealthy } from "./node-health";
import { renderNetwork, renderQuadlet } from "./node-quadlet";
import {
  containerUnitBase,
  type DebianInstall,
  dataDir,
  debianUnit,
  envFilePath,
  NETWORK_FILE,
  type NodeSource,
  nodesOf,
  type OciInstall,
  quadletPath,
  unitsOf,
} from "./node-units";
import { ensureOllamaService, gpuNote, OLLAMA_UNIT_PATH, renderOllamaUnit } from "./ollama-service";
import { type Downloader, installRelease, realDownload, releasePrefix } from "./release-install";
import { ensureOnion, onionDropIn, onionHostnameFile, renderOnion, TOR_UNIT, VERIFY } from "./tor-onion";

/**
 * node.install: a catalog node, installed, started and checked.
 * - Debian packages: `apt-get install` when dpkg-query says the package is not installed, then its
 *   unit enabled and started.
 * - OCI images: a podman quadlet per container (see node-quadlet.ts), daemon-reload, start.
 *   A local node's image comes from an archive on the box instead of a registry: `podman load`
 *   when podman lacks image@digest, then the loaded manifest digest must equal the pin (else the
 *   loaded image is removed and the install refused); its quadlet never pulls.
 * - Release tarballs (Ollama): pinned SHA-256 checked before extraction, its own user and unit.
 * Before anything: digests and hashes must be verified (placeholders are refused), the nodes it
 * depends on must be running and reachable (LND, Core Lightning and electrs only once Bitcoin
 * Core answers), and the data volume must be mounted. After: its units active and its health
 * checks passing (polled while it starts), else verified: false with the problems.
 */

type Input = z.infer<(typeof OpInputSchemas)["node.install"]>;

export const NODE_STATE_DIR = `${AGENT_STATE_DIR}/nodes`;
export const nodeStatePath = (id: string) => `${NODE_STATE_DIR}/${id}.json`;
const NodeStateSchema = z.strictObject({ id: z.string(), mode: z.string().nullable() });

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };
const APT_TIMEOUT_MS = 30 * 60_000;
export const aptInstall = (pkg: string, withPackages: readonly string[] = []) => [
  "apt-get",
  "install",
  "-y",
  "--no-install-recommends",
  "--",
  pkg,
  ...withPackages,
];
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format field
export const dpkgStatus = (pkg: string) => ["dpkg-query", "-W", "-f=${db:Status-Status}", "--", pkg];
const enableNow = (unit: string) => ["systemctl", "enable", "--now", "--", unit];
const DAEMON_RELOAD = ["systemctl", "daemon-reload"];
const mkdirData = (dir: string) => ["install", "-d", "-m", "0750", "--", dir];

export interface NodeInstallDeps {
  /** The catalog (tests give one with verified digests; the agent reads catalogNodes() per run). */
  nodes: NodeSource;
  probes: Probes;
  download: Downloader;
  releases: Record<string, Release>;
  /** How long verify waits for a node that is starting. */
  healthAttempts: number;
  healthIntervalMs: number;
}

function catalogNode(id: string, nodes: readonly CatalogNode[]): CatalogNode {
  const node = nodes.find((n) => n.id === id);
  if (!node) throw new OpError(`there is no node "${id}" in this Freehold's catalog`);
  return node;
}

const modeOf = (node: CatalogNode, input: Input) => input.mode ?? node.modes[0]?.id ?? null;
const ociOf = (node: CatalogNode) => node.install.filter((i): i is OciInstall => i.kind === "oci");
const debOf = (node: CatalogNode) => node.install.filter((i): i is DebianInstall => i.kind === "debian");

export async function installedDebian(host: Host, pkg: string): Promise<boolean> {
  const r = await host.run(dpkgStatus(pkg), { okCodes: [0, 1] });
  return r.code === 0 && r.stdout.trim() === "installed";
}

async function recordedMode(host: Host, id: string): Promise<string | null | undefined> {
  const text = await host.readFile(nodeStatePath(id));
  if (text === null) return undefined;
  const parsed = NodeStateSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data.mode : undefined;
}

function quadletOf(
  node: CatalogNode,
  install: OciInstall,
  nodes: readonly CatalogNode[],
  preview = false,
): string {
  const after = node.dependsOn.flatMap((d) => unitsOf(catalogNode(d.node, nodes)));
  return renderQuadlet(node, install, {
    after,
    ...(dependsOnBitcoin(node) ? { envFile: envFilePath(node.id) } : {}),
    preview,
  });
}

function previewCommands(input: Input, nodes: readonly CatalogNode[]): Command[] {
  const node = catalogNode(input.id, nodes);
  const out: Command[] = [];
  for (const i of node.install) {
    if (i.kind === "debian") out.push(runs(aptInstall(i.package, i.with)), runs(enableNow(debianUnit(i))));
  }
  if (node.id === BITCOIN_NODE)
    out.push(
      writes(PASSWORD_FILE, 0o600, "<generated RPC password>"),
      writes(BITCOIN_CONF, 0o600, "server=1\nrpcauth=freehold:<salt>$<HMAC-SHA256>\n..."),
    );
  if (dependsOnBitcoin(node))
    out.push(writes(envFilePath(node.id), 0o600, "BITCOIN_RPC_PASSWORD=<Bitcoin Core's RPC password>\n..."));
  for (const i of node.install) {
    if (i.kind !== "release") continue;
    const release = RELEASES[i.release];
    out.push(
      runs([
        "tar",
        "-xzf",
        `/var/cache/freehold/${release.name}-${release.version}-<arch>.download`,
        "-C",
        releasePrefix(release),
      ]),
      writes(OLLAMA_UNIT_PATH, 0o644, renderOllamaUnit(release)),
      runs(enableNow("ollama.service")),
    );
  }
  const oci = ociOf(node);
  if (oci.length > 0) {
    out.push(writes(NETWORK_FILE, 0o644, renderNetwork()));
    for (const i of oci) if (i.archive) out.push(runs(podmanLoad(i.archive)));
    for (const i of oci)
      out.push(
        runs(mkdirData(dataDir(node, i))),
        writes(quadletPath(node, i), 0o644, quadletOf(node, i, nodes, true)),
      );
    out.push(runs(DAEMON_RELOAD));
    for (const i of oci)
      if (!i.onDemand) out.push(runs(["systemctl", "start", "--", `${containerUnitBase(node, i)}.service`]));
  }
  if (input.onion)
    out.push(
      writes(onionDropIn(node.id), 0o644, renderOnion(node)),
      runs(VERIFY),
      runs(["systemctl", "reload-or-restart", "--", TOR_UNIT]),
    );
  return out;
}

async function hostArch(host: Host): Promise<Arch> {
  const out = (await host.run(["dpkg", "--print-architecture"])).stdout.trim();
  const arch = ArchSchema.safeParse(out);
  if (!arch.success) throw new OpError(`this box's architecture (${out}) is not one Freehold supports`);
  return arch.data;
}

/** Everything that must hold before anything is changed. */
async function preflight(
  host: Host,
  deps: NodeInstallDeps & { nodes: readonly CatalogNode[] },
  node: CatalogNode,
  input: Input,
): Promise<Arch> {
  if (input.mode && !node.modes.some((m) => m.id === input.mode))
    throw new OpError(
      `${node.name} has no mode "${input.mode}" (modes: ${node.modes.map((m) => m.id).join(", ")})`,
    );
  const arch = await hostArch(host);
  if (!node.architectures.includes(arch)) throw new OpError(`${node.name} does not run on ${arch}`);
  // Placeholders are refused before anything is installed: no half-installed node.
  for (const i of ociOf(node)) quadletOf(node, i, deps.nodes);
  for (const i of node.install) {
    if (i.kind !== "release") continue;
    const release = deps.releases[i.release];
    if (!release) throw new OpError(`no pinned release for ${i.release}`);
    const file = release.files[arch];
    if (file.hashStatus !== "verified")
      throw new OpError(
        `the pinned SHA-256 of ${release.name} ${release.version} for ${arch} is a placeholder, not the release file's: refusing to install an unverified download`,
        'Record the release\'s real SHA-256 in app/lib/catalog/releases.ts with hashStatus "verified", and update Freehold.',
      );
  }
  for (const dep of node.dependsOn) {
    const depNode = catalogNode(dep.node, deps.nodes);
    const mode = await recordedMode(host, dep.node);
    if (mode === undefined)
      throw new OpError(
        `${node.name} needs ${depNode.name}, which is not installed`,
        `Install ${dep.node} first.`,
      );
    if (dep.modes && (mode === null || !dep.modes.includes(mode)))
      throw new OpError(`${node.name} needs ${depNode.name} in mode ${dep.modes.join(" or ")}, not ${mode}`);
    const problems = await nodeProblems(host, deps.probes, depNode);
    if (problems.length > 0)
      throw new OpError(
        `${node.name} needs ${depNode.name} running and reachable first: ${problems.join("; ")}`,
        `Wait until ${depNode.name} has started (see its status on the dashboard), then retry.`,
      );
  }
  if (input.onion) {
    if ((node.onion ?? []).length === 0) throw new OpError(`${node.name} serves nothing as an onion service`);
    if (!(await installedDebian(host, "tor")))
      throw new OpError("onion services need the tor node", "Install tor first.");
  }
  if (needsDataVolume(node) && !(await mountedAt(host)))
    throw new OpError(
      "the data volume is not mounted",
      "Unlock the data volume on the dashboard, then retry.",
    );
  return arch;
}

/** Containers and releases keep their data on the data volume; so do Bitcoin Core's RPC secrets. */
export function needsDataVolume(node: CatalogNode): boolean {
  return node.install.some((i) => i.kind !== "debian") || node.id === BITCOIN_NODE;
}

async function ensureDebian(host: Host, install: DebianInstall): Promise<boolean> {
  let changed = false;
  // The package and what it needs alongside; only the missing ones (a retry after a failed start).
  const missing: string[] = [];
  for (const pkg of [install.package, ...(install.with ?? [])])
    if (!(await installedDebian(host, pkg))) missing.push(pkg);
  const [first, ...rest] = missing;
  if (first !== undefined) {
    host.progress(`installing the Debian package${missing.length > 1 ? "s" : ""} ${missing.join(" ")}`);
    await host.run(["apt-get", "update"], { env: APT_ENV, timeoutMs: APT_TIMEOUT_MS });
    await host.run(aptInstall(first, rest), { env: APT_ENV, timeoutMs: APT_TIMEOUT_MS });
    for (const pkg of missing)
      if (!(await installedDebian(host, pkg)))
        throw new OpError(`apt-get installed ${pkg}, but dpkg does not list it as installed`);
    changed = true;
  }
  const unit = debianUnit(install);
  if (!(await unitIs(host, "is-enabled", [unit])) || !(await unitIs(host, "is-active", [unit]))) {
    await host.run(enableNow(unit));
    changed = true;
  }
  return changed;
}

export const podmanLoad = (archive: string) => ["podman", "load", "--input", archive];
export const podmanImageExists = (ref: string) => ["podman", "image", "exists", "--", ref];
export const podmanDigest = (ref: string) => [
  "podman",
  "image",
  "inspect",
  "--format",
  "{{.Digest}}",
  "--",
  ref,
];
const LOAD_TIMEOUT_MS = 10 * 60_000;

/** "Loaded image: NAME" per image (podman 4 and 5), or "Loaded image(s): A,B" (podman 3). */
export function loadedImages(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((l) => /^Loaded image(?:\(s\))?: *(.+)$/.exec(l.trim())?.[1] ?? "")
    .flatMap((names) => names.split(","))
    .map((n) => n.trim())
    .filter(Boolean);
}

/**
 * A local node's image, from its archive: nothing to do when podman has image@digest; else
 * `podman load`, and the loaded image's manifest digest must be the pin. An oci-archive keeps the
 * manifest podman stores byte for byte, so its digest is stable (a docker-archive has no manifest:
 * podman would make one up, and its digest depends on podman's version). On a mismatch the loaded
 * image is removed and the install refused; on a match it is tagged image:tag, so that the
 * quadlet's Image=image@digest finds it with Pull=never.
 */
async function ensureArchiveImage(host: Host, install: OciInstall, archive: string): Promise<boolean> {
  const pinned = `${install.image}@${install.digest}`;
  const present = async () => (await host.run(podmanImageExists(pinned), { okCodes: [0, 1] })).code === 0;
  if (await present()) return false;
  if (!(await host.exists(archive)))
    throw new OpError(
      `the image archive ${archive} is not on this box, and podman has no ${pinned}`,
      `Copy the oci-archive of ${install.image}:${install.tag} to ${archive} (or fix "archive" in the local nodes file), then retry.`,
    );
  host.progress(`loading ${install.image}:${install.tag} from ${archive}`);
  const out = await host.run(podmanLoad(archive), { timeoutMs: LOAD_TIMEOUT_MS });
  const names = loadedImages(out.stdout);
  if (names.length === 0) throw new OpError(`podman load ${archive} loaded no image`);
  const found: { name: string; digest: string }[] = [];
  for (const name of names) found.push({ name, digest: (await host.run(podmanDigest(name))).stdout.trim() });
  const match = found.find((f) => f.digest === install.digest);
  if (!match) {
    for (const { name } of found)
      await host.run(["podman", "image", "rm", "--", name], { okCodes: [0, 1, 2] });
    throw new OpError(
      `the image in ${archive} has the digest ${found.map((f) => f.digest || "(none)").join(", ")}, not the pinned ${install.digest}: removed it, refusing to run an image other than the one pinned`,
      `If you trust this archive, put its manifest digest in the local nodes file; it must be an oci-archive (podman save --format oci-archive), whose manifest digest survives loading.`,
    );
  }
  const wanted = `${install.image}:${install.tag}`;
  if (match.name !== wanted) await host.run(["podman", "tag", match.name, wanted]);
  if (!(await present()))
    throw new OpError(
      `podman loaded ${match.name} with the pinned digest, but does not find ${pinned}`,
      "Check `podman images --digests` on the box, then retry.",
    );
  return true;
}

async function ensureContainers(
  host: Host,
  node: CatalogNode,
  nodes: readonly CatalogNode[],
): Promise<boolean> {
  const oci = ociOf(node);
  if (oci.length === 0) return false;
  let reload = await ensureFile(host, NETWORK_FILE, renderNetwork(), 0o644);
  for (const i of oci) if (i.archive) reload = (await ensureArchiveImage(host, i, i.archive)) || reload;
  const rewritten = new Set<string>();
  for (const i of oci) {
    await host.run(mkdirData(dataDir(node, i)));
    if (await ensureFile(host, quadletPath(node, i), quadletOf(node, i, nodes), 0o644)) {
      rewritten.add(containerUnitBase(node, i));
      reload = true;
    }
  }
  if (reload) await host.run(DAEMON_RELOAD);
  let changed = reload;
  for (const i of oci) {
    if (i.onDemand) continue;
    const base = containerUnitBase(node, i);
    const unit = `${base}.service`;
    if (rewritten.has(base) && (await unitIs(host, "is-active", [unit]))) {
      await host.run(["systemctl", "restart", "--", unit], { timeoutMs: 30 * 60_000 });
    } else if (!(await unitIs(host, "is-active", [unit]))) {
      host.progress(
        i.archive
          ? `starting ${unit} (${i.image}@${i.digest.slice(0, 19)}…, loaded from ${i.archive})`
          : `starting ${unit} (the first start pulls ${i.image}@${i.digest.slice(0, 19)}…)`,
      );
      await host.run(["systemctl", "start", "--", unit], { timeoutMs: 30 * 60_000 });
      changed = true;
    }
  }
  return changed;
}

export function makeNodeInstall(deps: NodeInstallDeps): PlanAgentOp<"node.install"> {
  return {
    name: "node.install",
    input: OpInputSchemas["node.install"],
    secrets: [],
    preview: (input) => previewCommands(input, nodesOf(deps.nodes)),

    async run(input, _secrets, host) {
      const nodes = nodesOf(deps.nodes);
      const node = catalogNode(input.id, nodes);
      const arch = await preflight(host, { ...deps, nodes }, node, input);
      const mode = modeOf(node, input);
      let changed = false;

      for (const i of debOf(node)) changed = (await ensureDebian(host, i)) || changed;
      if (node.id === BITCOIN_NODE) changed = (await ensureBitcoinRpc(host, mode ?? undefined)) || changed;
      if (dependsOnBitcoin(node)) changed = (await ensureDependentEnv(host, node.id)) || changed;
      for (const i of node.install) {
        if (i.kind !== "release") continue;
        const release = deps.releases[i.release] as Release;
        changed = (await installRelease(host, { release, arch, download: deps.download })) || changed;
        changed = (await ensureOllamaService(host, release)) || changed;
      }
      changed = (await ensureContainers(host, node, nodes)) || changed;
      if (input.onion) changed = (await ensureOnion(host, node)) || changed;
      await host.run(["install", "-d", "-m", "0755", "--", NODE_STATE_DIR]);
      changed =
        (await ensureFile(
          host,
          nodeStatePath(node.id),
          `${JSON.stringify({ id: node.id, mode })}\n`,
          0o644,
        )) || changed;

      host.progress(`waiting for ${node.name} to answer`);
      const problems = await waitHealthy(host, deps.probes, node, deps.healthAttempts, deps.healthIntervalMs);
      let onion: string | null = null;
      if (input.onion) {
        for (let i = 0; i < deps.healthAttempts && onion === null; i++) {
          onion = (await host.readFile(onionHostnameFile(node.id)))?.trim() || null;
          if (onion === null) await deps.probes.sleep(deps.healthIntervalMs);
        }
        if (onion === null) problems.push("tor has not published the onion service yet");
      }
      const gpu = node.install.some((i) => i.kind === "release") ? await gpuNote(host) : null;
      return {
        changed,
        verified: problems.length === 0,
        detail: {
          node: node.id,
          mode,
          units: unitsOf(node).join(", "),
          ...(onion ? { onion } : {}),
          ...(gpu ? { gpu: `${gpu}: Ollama uses it through the CUDA libraries of its release` } : {}),
          ...(problems.length > 0 ? { problems: problems.join("; ") } : {}),
        },
      };
    },
  };
}

export const nodeInstall = makeNodeInstall({
  nodes: () => catalogNodes(),
  probes: realProbes,
  download: realDownload,
  releases: RELEASES,
  healthAttempts: 60,
  healthIntervalMs: 5000,
});
