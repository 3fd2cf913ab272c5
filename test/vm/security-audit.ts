/**
 * The two outside audits of a provisioned box: Lynis (run inside the guest as root) and ssh-audit
 * (run from the host against the forwarded SSH port). Both come from trixie's packages, fetched
 * with the signature-checked private apt (image/apt-fetch.ts) and never installed: ssh-audit runs
 * from its extracted tree with the host's python3, Lynis is copied into the guest as a tarball.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cachedDebs } from "../../image/apt-fetch";

const SUITE = "trixie";

/** ssh-audit's own policy file: the lists of its hardened OpenSSH policy, as a subset. */
export const SSH_AUDIT_POLICY = path.join(import.meta.dirname, "ssh-audit-policy.txt");

export interface SshAuditResult {
  /** The plain audit: ssh-audit's exit code (0: nothing to warn about) and what it flagged. */
  exitCode: number;
  flagged: string[];
  /** The policy scan: passed or not, and ssh-audit's words. */
  policyPassed: boolean;
  policyOutput: string;
  algorithms: { kex: string[]; key: string[]; enc: string[]; mac: string[] };
}

interface AuditJson {
  cves?: { name: string }[];
  recommendations?: Record<string, unknown>;
  kex?: AlgorithmEntry[];
  key?: AlgorithmEntry[];
  enc?: AlgorithmEntry[];
  mac?: AlgorithmEntry[];
}
interface AlgorithmEntry {
  algorithm: string;
  notes?: { fail?: string[]; warn?: string[]; info?: string[] };
}

/** Every fail or warn note, every CVE and recommendation in ssh-audit's JSON, one line each. */
export function sshAuditFlags(json: AuditJson): string[] {
  const flagged: string[] = [];
  for (const kind of ["kex", "key", "enc", "mac"] as const)
    for (const entry of json[kind] ?? [])
      for (const level of ["fail", "warn"] as const)
        for (const note of entry.notes?.[level] ?? [])
          flagged.push(`${kind} ${entry.algorithm}: ${level} ${note}`);
  for (const cve of json.cves ?? []) flagged.push(`CVE ${cve.name}`);
  if (json.recommendations && Object.keys(json.recommendations).length > 0)
    flagged.push(`recommendations ${JSON.stringify(json.recommendations)}`);
  return flagged;
}

export async function runSshAudit(port: number): Promise<SshAuditResult> {
  const root = await cachedDebs(SUITE, ["ssh-audit"]);
  const env = { ...process.env, PYTHONPATH: path.join(root, "usr/lib/python3/dist-packages") };
  const once = (args: string[]) =>
    spawnSync("python3", ["-m", "ssh_audit", "-n", ...args, "-p", String(port), "127.0.0.1"], {
      env,
      encoding: "utf8",
      timeout: 180_000,
    });
  // sshd (OpenSSH 10, PerSourcePenalties) turns away for a while a source whose connections end
  // before a login, which is all an audit does: then ssh-audit gets no banner. Wait and try again.
  const audit = async (args: string[]) => {
    for (let attempt = 1; ; attempt++) {
      const r = once(args);
      const refused = /Not allowed at this time|did not receive banner|Connection refused/i.test(
        `${r.stdout}${r.stderr}`,
      );
      if (!refused || attempt === 12) return r;
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
  };
  const plain = await audit(["-j"]);
  let json: AuditJson;
  try {
    json = JSON.parse(plain.stdout) as AuditJson;
  } catch {
    throw new Error(`ssh-audit gave no JSON (exit ${plain.status}): ${plain.stdout}${plain.stderr}`);
  }
  const policy = await audit(["-P", SSH_AUDIT_POLICY]);
  const names = (list: AlgorithmEntry[] | undefined) => (list ?? []).map((e) => e.algorithm);
  return {
    exitCode: plain.status ?? -1,
    flagged: sshAuditFlags(json),
    policyPassed: policy.status === 0 && /Result: .*Passed/.test(policy.stdout),
    policyOutput: `${policy.stdout}${policy.stderr}`.trim(),
    algorithms: { kex: names(json.kex), key: names(json.key), enc: names(json.enc), mac: names(json.mac) },
  };
}

/**
 * Lynis as a gzipped tarball that runs from any directory (its own layout: ./lynis, ./include,
 * ./db, ./plugins, ./default.prf), owned by root as Lynis insists when run as root.
 */
export async function lynisTarball(): Promise<Buffer> {
  const root = await cachedDebs(SUITE, ["lynis"]);
  const stage = mkdtempSync(path.join(tmpdir(), "freehold-lynis-"));
  try {
    const copy = (from: string, to: string) => {
      const r = spawnSync("cp", ["-a", "-L", "--", path.join(root, from), path.join(stage, to)]);
      if (r.status !== 0) throw new Error(`cp ${from}: ${r.stderr}`);
    };
    copy("usr/sbin/lynis", "lynis");
    copy("usr/share/lynis/include", "include");
    copy("usr/share/lynis/db", "db");
    copy("etc/lynis/plugins", "plugins");
    copy("etc/lynis/default.prf", "default.prf");
    const tar = spawnSync("tar", ["-C", stage, "--owner=0", "--group=0", "-czf", "-", "."], {
      maxBuffer: 64 * 1024 * 1024,
    });
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    return tar.stdout;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export interface LynisResult {
  hardeningIndex: number;
  testsDone: number;
  warnings: string[];
  suggestions: string[];
}

/** The figures of /var/log/lynis-report.dat (key=value lines; lists as key[]=value). */
export function parseLynisReport(report: string): LynisResult {
  const values = (key: string) =>
    report
      .split("\n")
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1));
  const number = (key: string) => {
    const v = values(key)[0];
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`the Lynis report has no ${key}`);
    return Number(v);
  };
  const entries = (key: string) => values(`${key}[]`).map((v) => v.split("|").slice(0, 2).join(": "));
  return {
    hardeningIndex: number("hardening_index"),
    testsDone: number("lynis_tests_done"),
    warnings: entries("warning"),
    suggestions: entries("suggestion"),
  };
}
