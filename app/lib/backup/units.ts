import { USB_MOUNT } from "../../_schemas/backup";

/**
 * The systemd units of scheduled backups: each service runs one agent operation through the
 * agent's own entry (`node /opt/freehold/agent.mjs call backup.run`), the same code as the
 * dashboard's "back up now", with no shell in between; each timer is persistent (a run missed while
 * the box was off happens at the next boot) and randomly delayed (not every box at the same second).
 */

export const AGENT_ENTRY = ["/usr/bin/node", "/opt/freehold/agent.mjs"];
export const BACKUP_UNIT_DIR = "/etc/systemd/system";

export const TIMERS = {
  backup: "freehold-backup.timer",
  check: "freehold-backup-check.timer",
  drill: "freehold-backup-drill.timer",
} as const;
export type Job = keyof typeof TIMERS;
const OP: Record<Job, string> = { backup: "backup.run", check: "backup.check", drill: "backup.drill" };

/** systemd-escape --path --suffix=mount /mnt/freehold-backup */
export const USB_MOUNT_UNIT = "mnt-freehold\\x2dbackup.mount";

export interface Schedule {
  frequency: "daily" | "weekly";
  /** "03:30", local time. */
  time: string;
}

/** The backup's OnCalendar: daily, or Sundays, at the owner's time. */
export function backupCalendar(s: Schedule): string {
  return `${s.frequency === "weekly" ? "Sun " : ""}*-*-* ${s.time}:00`;
}

const HEADER = "# Freehold, written by freehold-agent (backup.configure); edits are overwritten.";

function service(job: Job, description: string, usb: boolean, timeoutMin: number): string {
  return [
    HEADER,
    "[Unit]",
    `Description=${description}`,
    "Documentation=https://restic.readthedocs.io/",
    "Wants=network-online.target",
    "After=network-online.target freehold-agent.socket",
    ...(usb ? [`RequiresMountsFor=${USB_MOUNT}`] : []),
    "ConditionPathExists=/etc/freehold/backup/config.json",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${[...AGENT_ENTRY, "call", OP[job]].join(" ")}`,
    "Nice=10",
    "IOSchedulingClass=idle",
    `TimeoutStartSec=${timeoutMin}min`,
    "PrivateTmp=yes",
    "ProtectHome=read-only",
    "NoNewPrivileges=yes",
    "",
  ].join("\n");
}

function timer(description: string, calendar: string, delay: string): string {
  return [
    HEADER,
    "[Unit]",
    `Description=${description}`,
    "",
    "[Timer]",
    `OnCalendar=${calendar}`,
    "Persistent=true",
    `RandomizedDelaySec=${delay}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

/** The mount unit of a USB target (no [Install]: the services pull it in with RequiresMountsFor). */
export function usbMountUnit(what: string): string {
  return [
    HEADER,
    "[Unit]",
    "Description=Freehold backup disk",
    "",
    "[Mount]",
    `What=${what}`,
    `Where=${USB_MOUNT}`,
    "Options=nodev,nosuid,noexec,noatime,nofail",
    "TimeoutSec=30s",
    "",
  ].join("\n");
}

/** Every unit file, by name; `usb` adds the disk's mount unit. */
export function renderUnits(schedule: Schedule, usb: { what: string } | null): Record<string, string> {
  const u = usb !== null;
  return {
    "freehold-backup.service": service("backup", "Freehold backup (restic)", u, 24 * 60),
    [TIMERS.backup]: timer("Scheduled Freehold backup", backupCalendar(schedule), "30min"),
    "freehold-backup-check.service": service(
      "check",
      "Freehold backup integrity check (restic check)",
      u,
      12 * 60,
    ),
    [TIMERS.check]: timer("Weekly Freehold backup integrity check", "Sat *-*-* 05:00:00", "1h"),
    "freehold-backup-drill.service": service("drill", "Freehold backup restore drill", u, 12 * 60),
    [TIMERS.drill]: timer("Monthly Freehold backup restore drill", "*-*-01 05:30:00", "1h"),
    ...(usb ? { [USB_MOUNT_UNIT]: usbMountUnit(usb.what) } : {}),
  };
}
