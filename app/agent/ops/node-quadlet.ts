import type { CatalogNode } from "../../_schemas/catalog";
import { OpError } from "../host";
import { MOUNT_UNIT } from "./data-volume";
import { containerUnitBase, dataDir, NETWORK_NAME, NETWORK_SUBNET, type OciInstall } from "./node-units";

/**
 * Podman quadlets for OCI nodes (podman-systemd.unit(5)): systemd's generator turns
 * /etc/containers/systemd/<name>.container into <name>.service at daemon-reload.
 *
 * What each container gets, and nothing more: its image pinned by digest (a placeholder digest is
 * refused), its own directory of the data volume, the ports the catalog names (localhost ones bound
 * to 127.0.0.1 only), no new privileges, a read-only root unless the catalog says the image writes
 * elsewhere, its HealthCmd, and Requires=/After= on the data volume's mount and on the units of the
 * nodes it depends on. A local node's image (loaded from an archive on the box) is never pulled.
 * It starts with the data volume ([Install] WantedBy the mount unit), so after
 * an unlock the nodes come up, and never on a locked volume.
 */

const HEADER = (what: string) => `# Written by freehold-agent (${what}); edits are overwritten.`;

/** docker.io/x/y@sha256:...; refuses a digest the catalog has not verified (the preview shows it). */
export function pinnedImage(install: OciInstall, preview = false): string {
  if (install.digestStatus !== "verified" && !preview) {
    throw new OpError(
      `the catalog's digest for ${install.image}:${install.tag} is a placeholder, not the registry's: refusing to run an unverified image`,
      'Pull the image on a trusted machine, record its manifest digest in app/lib/catalog/nodes.ts with digestStatus "verified", and update Freehold.',
    );
  }
  return `${install.image}@${install.digest}`;
}

export interface QuadletOptions {
  /** Units of the nodes it depends on (Requires= and After=). */
  after: string[];
  /** An env file with its secrets (0600), if it has any. */
  envFile?: string;
  /** For the plan preview: render a placeholder digest (marked) instead of refusing it. */
  preview?: boolean;
}

export function renderQuadlet(node: CatalogNode, install: OciInstall, options: QuadletOptions): string {
  const image = pinnedImage(install, options.preview);
  const publish = node.ports.filter((p) => !install.ports || install.ports.includes(p.port));
  const requires = [MOUNT_UNIT, ...options.after];
  const lines = [
    HEADER(`node.install ${node.id}`),
    ...(install.digestStatus === "verified"
      ? []
      : ["# The digest below is a placeholder: node.install refuses it until the catalog has the real one."]),
    "[Unit]",
    `Description=Freehold node: ${node.name} (${install.image}:${install.tag})`,
    `Requires=${requires.join(" ")}`,
    `After=${requires.join(" ")}`,
    "",
    "[Container]",
    `ContainerName=${containerUnitBase(node, install)}`,
    `Image=${image}`,
    // The image is pulled once by digest; podman auto-update has nothing to do with a digest pin.
    // A local node's image was loaded from its archive by node.install: never from a registry.
    `Pull=${install.archive ? "never" : "missing"}`,
    `Network=${NETWORK_NAME}.network`,
    `Volume=${dataDir(node, install)}:${install.mount ?? "/data"}`,
    ...publish.map(
      (p) =>
        `PublishPort=${p.exposure === "localhost" ? "127.0.0.1:" : ""}${p.port}:${p.port}${p.protocol === "udp" ? "/udp" : ""}`,
    ),
    ...(options.envFile ? [`EnvironmentFile=${options.envFile}`] : []),
    "NoNewPrivileges=true",
    ...(install.writableRoot ? [] : ["ReadOnly=true"]),
    ...(install.healthCmd
      ? [`HealthCmd=${install.healthCmd}`, "HealthInterval=60s", "HealthRetries=3", "HealthStartPeriod=10m"]
      : []),
    "",
    "[Service]",
    "Restart=on-failure",
    // The first start pulls the image.
    "TimeoutStartSec=30min",
    // On demand (XMRig): started by the owner or the heater policy, never with the volume.
    ...(install.onDemand ? [] : ["", "[Install]", `WantedBy=${MOUNT_UNIT}`]),
    "",
  ];
  return lines.join("\n");
}

/** The network the nodes share, with a fixed subnet (Bitcoin Core's rpcallowip names it). */
export function renderNetwork(): string {
  return [
    HEADER("node.install"),
    "[Network]",
    `NetworkName=${NETWORK_NAME}`,
    `Subnet=${NETWORK_SUBNET}`,
    "",
  ].join("\n");
}
