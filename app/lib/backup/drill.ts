import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";

/**
 * The restore drill's comparison: a snapshot restored under `restoreDir` (restic recreates each
 * backed-up absolute path there: restoreDir/srv/freehold/...) against the files on the box.
 *
 * A file whose source still has the restored file's modification time (restic restores it to the
 * nanosecond) has not changed since the snapshot, so it must be byte-identical: any difference is
 * a failed drill, named with its path. Files changed or deleted since the snapshot are counted, not
 * blamed. Symbolic links are compared by target; other special files are left out.
 */

export interface Difference {
  path: string;
  reason: string;
}

export interface DrillReport {
  /** Restored regular files and links looked at. */
  checked: number;
  identical: number;
  changedSince: number;
  deletedSince: number;
  differences: Difference[];
}

/** What one restored entry says, given both sides' metadata (pure; the walker reads the disk). */
export type Verdict = "identical" | "changed-since" | "deleted-since" | "compare-content" | Difference;

export interface Meta {
  kind: "file" | "link" | "dir" | "other";
  size: bigint;
  mtimeNs: bigint;
  link?: string;
}

export function classify(file: string, restored: Meta, source: Meta | null): Verdict {
  if (!source) return "deleted-since";
  if (source.mtimeNs !== restored.mtimeNs) return "changed-since";
  if (source.kind !== restored.kind)
    return { path: file, reason: `is a ${source.kind} on the box but a ${restored.kind} in the backup` };
  if (restored.kind === "link")
    return source.link === restored.link
      ? "identical"
      : { path: file, reason: "the link points elsewhere than in the backup" };
  if (source.size !== restored.size)
    return {
      path: file,
      reason: `unchanged since the snapshot, but ${restored.size} bytes restored instead of ${source.size}`,
    };
  return "compare-content";
}

async function meta(file: string): Promise<Meta | null> {
  try {
    const st = await fs.lstat(file, { bigint: true });
    const kind = st.isFile() ? "file" : st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : "other";
    return {
      kind,
      size: st.size,
      mtimeNs: st.mtimeNs,
      ...(kind === "link" ? { link: await fs.readlink(file) } : {}),
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return null;
    throw e;
  }
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("error", reject)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")));
  });
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256(a), sha256(b)]);
  return ha === hb;
}

const MAX_DIFFERENCES = 50;

/**
 * Walks everything restored under `restoreDir` for each of `paths` (absolute paths as backed up)
 * and compares it with the same paths on the box.
 */
export async function compareRestore(restoreDir: string, paths: readonly string[]): Promise<DrillReport> {
  const report: DrillReport = { checked: 0, identical: 0, changedSince: 0, deletedSince: 0, differences: [] };
  const differ = (d: Difference) => {
    if (report.differences.length < MAX_DIFFERENCES) report.differences.push(d);
  };
  const visit = async (source: string): Promise<void> => {
    const restoredPath = path.join(restoreDir, source);
    const restored = await meta(restoredPath);
    if (!restored) return;
    if (restored.kind === "dir") {
      const names = await fs.readdir(restoredPath);
      names.sort();
      for (const name of names) await visit(path.join(source, name));
      return;
    }
    if (restored.kind === "other") return;
    report.checked++;
    const verdict = classify(source, restored, await meta(source));
    if (verdict === "identical") report.identical++;
    else if (verdict === "changed-since") report.changedSince++;
    else if (verdict === "deleted-since") report.deletedSince++;
    else if (verdict === "compare-content") {
      if (await sameContent(source, restoredPath)) report.identical++;
      else differ({ path: source, reason: "unchanged since the snapshot, but the restored bytes differ" });
    } else differ(verdict);
  };
  for (const p of paths) await visit(p);
  report.differences.length = Math.min(report.differences.length, MAX_DIFFERENCES);
  return report;
}

/** The drill passed: something was restored and every file unchanged since was identical. */
export function drillPassed(report: DrillReport): boolean {
  return report.differences.length === 0 && report.checked > 0;
}

/** One sentence for the owner (and the status file). */
export function describeDrill(report: DrillReport): string {
  if (report.checked === 0) return "The restore drill restored no files: the snapshot is empty.";
  const base =
    `${report.checked} files restored: ${report.identical} identical to the box, ` +
    `${report.changedSince} changed and ${report.deletedSince} deleted since the snapshot.`;
  if (report.differences.length === 0) return base;
  const first = report.differences
    .slice(0, 5)
    .map((d) => `${JSON.stringify(d.path)} ${d.reason}`)
    .join("; ");
  return `${base} ${report.differences.length} differ although unchanged since the snapshot: ${first}.`;
}
