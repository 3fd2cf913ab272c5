import type { CatalogNode } from "../../_schemas/catalog";
import { type Host, OpError } from "../host";
import { ensureFile } from "./common";

/**
 * Tor onion services for nodes: one torrc drop-in per node (HiddenServiceDir + HiddenServicePort
 * to the node's port on 127.0.0.1), included from /etc/tor/torrc, checked with
 * `tor --verify-config` before tor reloads. The keys stay in /var/lib/tor/onion-services/<node>
 * (the catalog's tor node names them for backup).
 */

export const TORRC = "/etc/tor/torrc";
export const TORRC_DIR = "/etc/tor/torrc.d";
export const ONION_DIR = "/var/lib/tor/onion-services";
export const INCLUDE = `%include ${TORRC_DIR}/*.conf`;
export const TOR_UNIT = "tor@default.service";
export const VERIFY = ["tor", "--verify-config", "-f", TORRC];

export const onionDropIn = (nodeId: string) => `${TORRC_DIR}/freehold-${nodeId}.conf`;

export function renderOnion(node: CatalogNode, onionDir = ONION_DIR): string {
  const ports = node.onion ?? [];
  if (ports.length === 0) throw new OpError(`${node.name} serves nothing as an onion service`);
  return [
    `# Written by freehold-agent (node.install ${node.id}); edits are overwritten.`,
    `HiddenServiceDir ${onionDir}/${node.id}`,
    ...ports.map((p) => `HiddenServicePort ${p} 127.0.0.1:${p}`),
    "",
  ].join("\n");
}

/** /etc/tor/torrc with our include line (appended once; the rest is the owner's). */
export function withInclude(torrc: string): string {
  if (torrc.split("\n").some((l) => l.trim() === INCLUDE)) return torrc;
  const base = torrc.endsWith("\n") || torrc === "" ? torrc : `${torrc}\n`;
  return `${base}# Freehold's onion services (node.install)\n${INCLUDE}\n`;
}

/** Writes the drop-in, checks the whole configuration with tor itself, reloads tor. */
export async function ensureOnion(host: Host, node: CatalogNode): Promise<boolean> {
  const torrc = (await host.readFile(TORRC)) ?? "";
  await host.run(["install", "-d", "-m", "0755", "--", TORRC_DIR]);
  let changed = await ensureFile(host, TORRC, withInclude(torrc), 0o644);
  changed = (await ensureFile(host, onionDropIn(node.id), renderOnion(node), 0o644)) || changed;
  if (!changed) return false;
  const check = await host.run(VERIFY, { okCodes: [0, 1] });
  if (check.code !== 0) {
    await host.removeFile(onionDropIn(node.id));
    const why =
      check.stdout
        .trim()
        .split("\n")
        .filter((l) => /\[(warn|err)\]/.test(l))
        .at(-1) ?? "";
    throw new OpError(`tor rejects the onion service of ${node.id}: ${why}`);
  }
  await host.run(["systemctl", "reload-or-restart", "--", TOR_UNIT]);
  return true;
}

export const onionHostnameFile = (nodeId: string) => `${ONION_DIR}/${nodeId}/hostname`;
