import { readFileSync, statSync } from "node:fs";
import { type CatalogNode, LocalNodesFileSchema, NodeCatalogSchema } from "../../_schemas/catalog";
import { readEnv } from "../env";
import { NODES } from "./nodes";

/**
 * The catalog this box offers: the built-in nodes plus the owner's local nodes, containers they
 * added on this box in a root-owned JSON file (FREEHOLD_LOCAL_NODES, by default
 * /etc/freehold/local-nodes.json): `{ "nodes": [ ...catalog entries with "origin": "local" ] }`.
 *
 * The web app (wizard, dashboard, recommendations) and the agent (node.install, restart, logs,
 * status) both read the list through catalogNodes(), so they agree on it. The file is checked by
 * the catalog's own schemas (LocalNodeSchema: containers only, digests the owner vouches for),
 * its ids must not be built-in ones, and the whole list must pass NodeCatalogSchema (dependencies
 * known). It must be owned by root (or the reading user) and writable by its owner only: the
 * agent runs what it names as root. A missing file means no local nodes; an invalid one is
 * reported (once per version of the file) and ignored, never a crash: the built-in catalog stays.
 */

export interface LocalNodes {
  file: string;
  /** The valid local nodes (empty when the file is missing or invalid). */
  nodes: readonly CatalogNode[];
  /** Why the file was ignored, naming it; null when it is fine or absent. */
  problem: string | null;
}

export const localNodesFile = (): string => readEnv().FREEHOLD_LOCAL_NODES;

/** Reads and checks the file now (no cache). */
export function readLocalNodes(file: string, builtIn: readonly CatalogNode[] = NODES): LocalNodes {
  const ignored = (why: string): LocalNodes => ({
    file,
    nodes: [],
    problem: `${file} is ignored (only the built-in catalog is offered): ${why}`,
  });
  let text: string;
  try {
    const st = statSync(file);
    const uid = process.getuid?.() ?? 0;
    if (st.uid !== 0 && st.uid !== uid) return ignored(`it is owned by uid ${st.uid}, not root`);
    if ((st.mode & 0o022) !== 0)
      return ignored(`it is writable by others than its owner (mode ${(st.mode & 0o777).toString(8)})`);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { file, nodes: [], problem: null };
    return ignored(`cannot read it (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return ignored(`it is not JSON (${(e as Error).message})`);
  }
  const parsed = LocalNodesFileSchema.safeParse(json);
  if (!parsed.success) return ignored(issues(parsed.error.issues));
  const local = parsed.data.nodes;
  const builtInIds = new Set(builtIn.map((n) => n.id));
  const reused = local.filter((n) => builtInIds.has(n.id)).map((n) => n.id);
  if (reused.length > 0) return ignored(`${reused.join(", ")}: the id of a built-in node; choose another`);
  const all = NodeCatalogSchema.safeParse([...builtIn, ...local]);
  if (!all.success) {
    // Paths index the combined list; name local entries by their place in the file.
    const shifted = all.error.issues.map((i) => {
      const [at, ...rest] = i.path;
      return typeof at === "number" && at >= builtIn.length
        ? { ...i, path: ["nodes", at - builtIn.length, ...rest] }
        : i;
    });
    return ignored(issues(shifted));
  }
  return { file, nodes: local, problem: null };
}

function issues(list: readonly { path: PropertyKey[]; message: string }[]): string {
  return list
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(top)"}: ${i.message}`)
    .concat(list.length > 5 ? [`and ${list.length - 5} more`] : [])
    .join("; ");
}

/** Per file: the version read (mtime, size, inode) and what it gave. */
const cache = new Map<string, { key: string; local: LocalNodes; all: readonly CatalogNode[] }>();

function versionOf(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}:${st.uid}:${st.mode}`;
  } catch (e) {
    return `absent:${(e as NodeJS.ErrnoException).code ?? "?"}`;
  }
}

/** The local nodes file as last read, re-read when it changed. */
export function localNodes(file: string = localNodesFile()): LocalNodes {
  const key = versionOf(file);
  const hit = cache.get(file);
  if (hit && hit.key === key) return hit.local;
  const local = readLocalNodes(file);
  if (local.problem) console.error(`freehold: ${local.problem}`);
  cache.set(file, { key, local, all: [...NODES, ...local.nodes] });
  return local;
}

/** The built-in catalog and the valid local nodes, built-in first. */
export function catalogNodes(file: string = localNodesFile()): readonly CatalogNode[] {
  localNodes(file);
  return cache.get(file)?.all ?? NODES;
}

export function catalogNodeById(id: string, file?: string): CatalogNode | undefined {
  return catalogNodes(file).find((n) => n.id === id);
}
