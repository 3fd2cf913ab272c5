import type { CatalogNode, HealthCheck, Install } from "../../_schemas/catalog";
import { MOUNTPOINT } from "./data-volume";

/**
 * Where each piece of a catalog node lives on the box: its systemd units, its quadlet files, its
 * directory on the data volume, and the checks that say it works. Pure: node.install, the plan
 * preview and the tests read the same answers.
 */

export type OciInstall = Extract<Install, { kind: "oci" }>;
export type DebianInstall = Extract<Install, { kind: "debian" }>;

export const QUADLET_DIR = "/etc/containers/systemd";
/** Node secrets (RPC passwords, env files) live on the encrypted data volume, root only. */
export const SECRETS_DIR = `${MOUNTPOINT}/.secrets`;
/** The podman network the nodes share: dependents reach e.g. Bitcoin Core by its container name. */
export const NETWORK_NAME = "freehold";
export const NETWORK_FILE = `${QUADLET_DIR}/${NETWORK_NAME}.network`;
export const NETWORK_SUBNET = "10.89.70.0/24";

/** freehold-<node>[-<name>]: the quadlet's file name, the service and the container name. */
export function containerUnitBase(node: CatalogNode, install: OciInstall): string {
  return install.name && install.name !== node.id
    ? `freehold-${node.id}-${install.name}`
    : `freehold-${node.id}`;
}

export const quadletPath = (node: CatalogNode, install: OciInstall) =>
  `${QUADLET_DIR}/${containerUnitBase(node, install)}.container`;

/** The directory on the data volume that the container gets (its only writable place). */
export function dataDir(node: CatalogNode, install: OciInstall): string {
  return install.name ? `${MOUNTPOINT}/${node.id}/${install.name}` : `${MOUNTPOINT}/${node.id}`;
}

export const debianUnit = (install: DebianInstall) => install.unit ?? `${install.package}.service`;

/** The systemd units that run a node, in install order (on-demand ones only when asked). */
export function unitsOf(node: CatalogNode, withOnDemand = false): string[] {
  return node.install
    .flatMap((i) => (i.kind === "oci" && i.onDemand && !withOnDemand ? [] : [i]))
    .map((i) => {
      switch (i.kind) {
        case "debian":
          return debianUnit(i);
        case "oci":
          return `${containerUnitBase(node, i)}.service`;
        default:
          return `${i.release}.service`;
      }
    });
}

/** The node's checks beyond its units being active: the catalog's, else TCP on its first TCP port. */
export function healthChecksOf(node: CatalogNode): HealthCheck[] {
  if (node.health) return node.health;
  const tcp = node.ports.find((p) => p.protocol === "tcp");
  return tcp ? [{ kind: "tcp", port: tcp.port }] : [];
}

export const envFilePath = (nodeId: string) => `${SECRETS_DIR}/${nodeId}.env`;

/**
 * Where an op gets the catalog: a fixed list (tests) or a function read at each run (the agent:
 * catalogNodes(), so local nodes the owner adds are seen without a restart).
 */
export type NodeSource = readonly CatalogNode[] | (() => readonly CatalogNode[]);
export const nodesOf = (source: NodeSource): readonly CatalogNode[] =>
  typeof source === "function" ? source() : source;
