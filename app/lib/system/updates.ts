import type { PendingUpdate, UnattendedRun } from "../../_schemas/dashboard";

/**
 * Pending Debian updates and the last unattended-upgrades run, from the tools' own text. Pure, so
 * the tests feed them real output.
 *
 * Pending updates come from `apt-get -s dist-upgrade` (a simulation: nothing is installed, and with
 * Debug::NoLocking it runs beside apt-daily). apt-get's output is the interface apt keeps stable
 * for scripts, unlike `apt list --upgradable` (apt warns that its CLI is not stable), and its
 * `Inst` lines name every origin of the new version, so security updates can be told apart.
 * Debian has no /usr/lib/update-notifier/apt-check (that is Ubuntu's update-notifier-common).
 */

export const APT_SIMULATE = ["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"];

/** `Inst name [old] (new Origin:release/suite[, Origin:release/suite] [arch])`, [old] absent for new packages. */
const INST = /^Inst (\S+)(?: \[([^\]]*)\])? \((\S+) (.*?) \[[^\]]+\]\)/;

export function parseAptSimulate(text: string): PendingUpdate[] {
  const out: PendingUpdate[] = [];
  for (const line of text.split("\n")) {
    const m = INST.exec(line);
    if (!m?.[1] || !m[3]) continue;
    const origins = (m[4] ?? "").split(", ").map((o) => o.trim());
    out.push({
      name: m[1],
      from: m[2] ?? null,
      to: m[3],
      security: origins.some((o) => /^Debian-Security:|-security$/i.test(o)),
    });
  }
  return out;
}

export const UNATTENDED_LOG = "/var/log/unattended-upgrades/unattended-upgrades.log";

/** `2025-01-15 06:25:03,123 INFO message`: local time of the box, as unattended-upgrades logs it. */
const LOG_LINE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}),(\d{3}) (\w+) (.*)$/;

function localIso(m: RegExpExecArray): string {
  const [y, mo, d, h, mi, s, ms] = m.slice(1, 8).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(y, mo - 1, d, h, mi, s, ms).toISOString();
}

/**
 * The last run of unattended-upgrade (each starts with "Starting unattended upgrades script") and
 * the last one that installed something. The verdict is the line unattended-upgrades ends with:
 * "All upgrades installed", "No packages found that can be upgraded unattended…", or an ERROR
 * ("Installing the upgrades failed!"); a run without one is still going or was cut short.
 */
export function parseUnattendedLog(text: string): {
  lastRun: UnattendedRun | null;
  lastAppliedAt: string | null;
} {
  let current: UnattendedRun | null = null;
  let lastAppliedAt: string | null = null;
  for (const line of text.split("\n")) {
    const m = LOG_LINE.exec(line.trimEnd());
    if (!m) continue;
    const level = m[8] ?? "";
    const message = m[9] ?? "";
    if (message.startsWith("Starting unattended upgrades script")) {
      current = { at: localIso(m), result: "incomplete", packages: [] };
      continue;
    }
    if (!current) continue;
    if (message.startsWith("Packages that will be upgraded:")) {
      current.packages = message
        .slice("Packages that will be upgraded:".length)
        .trim()
        .split(/\s+/)
        .filter(Boolean);
    } else if (message.startsWith("All upgrades installed")) {
      current.result = "installed";
      lastAppliedAt = localIso(m);
    } else if (message.startsWith("No packages found that can be upgraded unattended")) {
      current.result = "nothing";
    } else if (level === "ERROR" || message.startsWith("Installing the upgrades failed")) {
      current.result = "failed";
    }
  }
  return { lastRun: current, lastAppliedAt };
}

export const REBOOT_REQUIRED = "/run/reboot-required";
export const REBOOT_PKGS = "/run/reboot-required.pkgs";

/** /run/reboot-required.pkgs: one package per line, repeated when several updates asked. */
export function parseRebootPkgs(text: string | null): string[] {
  if (!text) return [];
  return [
    ...new Set(
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => /^[a-z0-9][a-z0-9+.-]*$/.test(l)),
    ),
  ];
}
