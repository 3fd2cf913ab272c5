import type { UnitState } from "../../_schemas/dashboard";

/**
 * The systemd units the dashboard watches and whose logs it may show: Freehold's own, the system
 * services Freehold configures, and (added by the agent) the units of the nodes it installed.
 * Anything else is refused: the journal of an arbitrary unit is not the web app's business.
 */
export const FREEHOLD_UNITS = [
  "freehold-web.service",
  "freehold-agent.socket",
  "freehold-agent.service",
  "freehold-backup.timer",
  "freehold-backup.service",
  "freehold-backup-check.timer",
  "freehold-backup-check.service",
  "freehold-backup-drill.timer",
  "freehold-backup-drill.service",
  "freehold-volume-tpm2.service",
] as const;

/** Debian services Freehold configures (SSH, the firewall, automatic updates). */
export const SYSTEM_UNITS = [
  "ssh.service",
  "nftables.service",
  "apt-daily.service",
  "apt-daily-upgrade.service",
  "unattended-upgrades.service",
] as const;

export const BACKUP_SERVICE = "freehold-backup.service";

const PROPERTIES = ["Id", "LoadState", "ActiveState", "SubState", "UnitFileState", "ActiveEnterTimestamp"];

export const showUnitsArgv = (units: readonly string[]) => [
  "systemctl",
  "show",
  `--property=${PROPERTIES.join(",")}`,
  "--timestamp=unix",
  "--",
  ...units,
];

/** `systemctl show` output: one block of KEY=value lines per unit, blocks separated by a blank line. */
export function parseShowBlocks(text: string): Record<string, string>[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const out: Record<string, string> = {};
      for (const line of block.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return out;
    })
    .filter((b) => Object.keys(b).length > 0);
}

/** `@1735800097` (--timestamp=unix) as ISO time; empty or 0: null. */
export function unixTimestamp(value: string | undefined): string | null {
  const m = /^@(\d+)$/.exec(value ?? "");
  return m?.[1] && m[1] !== "0" ? new Date(Number(m[1]) * 1000).toISOString() : null;
}

export function parseUnitStates(text: string, asked: readonly string[]): UnitState[] {
  const blocks = parseShowBlocks(text);
  return asked.map((unit, i) => {
    const b = blocks.find((x) => x.Id === unit) ?? blocks[i] ?? {};
    return {
      unit,
      load: b.LoadState || "unknown",
      active: b.ActiveState || "unknown",
      sub: b.SubState || "unknown",
      enabled: b.UnitFileState || null,
      since: unixTimestamp(b.ActiveEnterTimestamp),
    };
  });
}
