import { BackupPathSchema } from "../../_schemas/backup";
import type { CatalogNode } from "../../_schemas/catalog";

/**
 * What a backup holds: the data volume and Freehold's own state, plus each chosen node's backup
 * entries from the catalog. Blockchains, indexes and models are left out (they download or
 * rebuild again); keys, wallets, static channel backups, settings and databases go in. Catalog
 * entries that are not plain paths ("/var/lib/postgresql (pg_dump)", a seed written on paper) are
 * not files restic can read: they become notes for the owner.
 */

export interface BackupSet {
  paths: string[];
  excludes: string[];
  /** Things the owner must know about (not backed up as files). */
  notes: string[];
}

/**
 * Always backed up: the data volume, the dashboard's database and settings, and the agent's state
 * (among it the LUKS header backup, which can save a volume whose header got damaged).
 */
export const BASE_PATHS = ["/srv/freehold", "/var/lib/freehold", "/var/lib/freehold-agent"];
/** Never: the filesystem's lost+found, and the backup state (it describes the backup itself). */
export const BASE_EXCLUDES = ["/srv/freehold/lost+found", "/var/lib/freehold-agent/backup"];

/**
 * Large data each node can fetch or rebuild: never backed up, even when a path above it is (the
 * data volume, a node's whole directory).
 */
export const REBUILDABLE: Readonly<Record<string, readonly string[]>> = {
  "bitcoin-core": [
    "/var/lib/bitcoind/blocks",
    "/var/lib/bitcoind/chainstate",
    "/var/lib/bitcoind/indexes",
    "/var/lib/bitcoind/testnet3",
    "/var/lib/bitcoind/signet",
    "/var/lib/bitcoind/regtest",
  ],
  monerod: ["/var/lib/monero/lmdb", "/var/lib/monero/p2pstate.bin"],
  electrs: ["/var/lib/electrs/db"],
  "p2pool-xmrig": ["/var/lib/p2pool/p2pool.cache"],
  kubo: ["/var/lib/ipfs/blocks", "/var/lib/ipfs/datastore"],
  ollama: ["/var/lib/ollama/models"],
  synapse: ["/var/lib/synapse/media_store/url_cache", "/var/lib/synapse/media_store/url_cache_thumbnails"],
  mastodon: ["/var/lib/mastodon/public/system/cache"],
};

const isPlainPath = (p: string) => BackupPathSchema.safeParse(p).success;
const inside = (child: string, parent: string) => child === parent || child.startsWith(`${parent}/`);

/** One node's share: its plain backup paths, its rebuildable data, notes for the rest. */
export function nodeBackupSet(node: CatalogNode): BackupSet {
  const paths: string[] = [];
  const notes: string[] = [];
  for (const entry of node.backup) {
    if (isPlainPath(entry.path)) paths.push(entry.path);
    else notes.push(`${node.name}: ${entry.path} (${entry.why}) is not a file the backup reads.`);
  }
  return { paths, excludes: [...(REBUILDABLE[node.id] ?? [])], notes };
}

/** The whole box's backup set for the chosen nodes: paths without overlap, excludes sorted. */
export function backupSet(nodes: readonly CatalogNode[]): BackupSet {
  const sets = nodes.map(nodeBackupSet);
  const all = [...new Set([...BASE_PATHS, ...sets.flatMap((s) => s.paths)])];
  // A path inside another one is already covered.
  const paths = all.filter((p) => !all.some((q) => q !== p && inside(p, q)));
  const excludes = [...new Set([...BASE_EXCLUDES, ...sets.flatMap((s) => s.excludes)])].sort();
  return { paths, excludes, notes: sets.flatMap((s) => s.notes) };
}
