import { type OpInput, OpInputSchemas } from "../../_schemas/ops";
import { type Command, runs, writes } from "../command";
import type { Host } from "../host";
import { ensureFile, type PlanAgentOp, unitIs } from "./common";

/**
 * updates.configure: unattended-upgrades for Debian security and stable updates of the running
 * release (${distro_codename} is expanded by unattended-upgrades itself, so it survives a release
 * upgrade), old kernels and unused dependencies removed, reboots in the owner's window or never;
 * "notify" keeps the package lists fresh (the dashboard announces updates) but installs nothing.
 * App updates: podman's auto-update timer on or off (containers opt in by label).
 */

type Input = OpInput<"updates.configure">;

export const UNATTENDED = "/etc/apt/apt.conf.d/52freehold-unattended-upgrades";
export const PERIODIC = "/etc/apt/apt.conf.d/20auto-upgrades";
const APT_TIMERS = ["apt-daily.timer", "apt-daily-upgrade.timer"];
const APPS_TIMER = "podman-auto-update.timer";
const enableNow = (units: string[]) => ["systemctl", "enable", "--now", "--", ...units];
const disableNow = (units: string[]) => ["systemctl", "disable", "--now", "--", ...units];

/** Expanded by unattended-upgrades to the running release's codename (not a JS placeholder). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: unattended-upgrades' own variable
export const CODENAME = "${distro_codename}";
export const ORIGINS = [
  `origin=Debian,codename=${CODENAME}-security,label=Debian-Security`,
  `origin=Debian,codename=${CODENAME},label=Debian-Security`,
  `origin=Debian,codename=${CODENAME}-updates`,
];

export function renderUnattended(input: Input): string {
  const reboot = input.reboot === "window";
  return [
    "// Freehold, written by freehold-agent (updates.configure); edits are overwritten.",
    "// Our list replaces the one of 50unattended-upgrades (apt reads the files in order).",
    "#clear Unattended-Upgrade::Origins-Pattern;",
    "Unattended-Upgrade::Origins-Pattern {",
    ...ORIGINS.map((o) => `\t"${o}";`),
    "};",
    'Unattended-Upgrade::Remove-Unused-Kernel-Packages "true";',
    'Unattended-Upgrade::Remove-New-Unused-Dependencies "true";',
    'Unattended-Upgrade::Remove-Unused-Dependencies "true";',
    `Unattended-Upgrade::Automatic-Reboot "${reboot}";`,
    'Unattended-Upgrade::Automatic-Reboot-WithUsers "true";',
    `Unattended-Upgrade::Automatic-Reboot-Time "${input.rebootTime}";`,
    "",
  ].join("\n");
}

export function renderPeriodic(input: Input): string {
  return [
    "// Freehold, written by freehold-agent (updates.configure); edits are overwritten.",
    'APT::Periodic::Update-Package-Lists "1";',
    `APT::Periodic::Unattended-Upgrade "${input.security === "automatic" ? 1 : 0}";`,
    'APT::Periodic::AutocleanInterval "7";',
    "",
  ].join("\n");
}

/** The values `apt-config dump` must show. */
export function expectedConfig(input: Input): Record<string, string> {
  return {
    "APT::Periodic::Update-Package-Lists": "1",
    "APT::Periodic::Unattended-Upgrade": input.security === "automatic" ? "1" : "0",
    "Unattended-Upgrade::Remove-Unused-Kernel-Packages": "true",
    "Unattended-Upgrade::Remove-Unused-Dependencies": "true",
    "Unattended-Upgrade::Automatic-Reboot": input.reboot === "window" ? "true" : "false",
    "Unattended-Upgrade::Automatic-Reboot-Time": input.rebootTime,
  };
}

/** What `apt-config dump` shows that differs from the input; empty when as wanted. */
export function configProblems(dump: string, input: Input): string[] {
  const values = new Map<string, string[]>();
  for (const line of dump.split("\n")) {
    const m = /^(\S+) "(.*)";$/.exec(line.trim());
    if (m?.[1]) values.set(m[1], [...(values.get(m[1]) ?? []), m[2] ?? ""]);
  }
  const problems = Object.entries(expectedConfig(input))
    .filter(([key, want]) => values.get(key)?.at(-1) !== want)
    .map(([key]) => key);
  const origins = values.get("Unattended-Upgrade::Origins-Pattern::") ?? [];
  if (ORIGINS.some((o) => !origins.includes(o))) problems.push("Origins-Pattern");
  return problems;
}

async function problems(host: Host, input: Input): Promise<string[]> {
  const out = configProblems((await host.run(["apt-config", "dump"])).stdout, input);
  if (!(await unitIs(host, "is-enabled", APT_TIMERS))) out.push("apt timers not enabled");
  if ((await unitIs(host, "is-enabled", [APPS_TIMER])) !== (input.apps === "automatic")) out.push(APPS_TIMER);
  return out;
}

export const updatesConfigure: PlanAgentOp<"updates.configure"> = {
  name: "updates.configure",
  input: OpInputSchemas["updates.configure"],
  secrets: [],

  preview(input): Command[] {
    return [
      writes(UNATTENDED, 0o644, renderUnattended(input)),
      writes(PERIODIC, 0o644, renderPeriodic(input)),
      ...(input.apps === "automatic" ? [runs(enableNow([APPS_TIMER]))] : []),
    ];
  },

  async run(input, _secrets, host) {
    let changed = await ensureFile(host, UNATTENDED, renderUnattended(input), 0o644);
    changed = (await ensureFile(host, PERIODIC, renderPeriodic(input), 0o644)) || changed;
    if (!(await unitIs(host, "is-enabled", APT_TIMERS))) {
      await host.run(enableNow(APT_TIMERS));
      changed = true;
    }
    const apps = await unitIs(host, "is-enabled", [APPS_TIMER]);
    if (apps !== (input.apps === "automatic")) {
      await host.run(apps ? disableNow([APPS_TIMER]) : enableNow([APPS_TIMER]));
      changed = true;
    }
    const left = await problems(host, input);
    return {
      changed,
      verified: left.length === 0,
      detail: {
        security: input.security,
        reboot: input.reboot === "window" ? input.rebootTime : "never",
        apps: input.apps,
        ...(left.length > 0 ? { problems: left.join(", ") } : {}),
      },
    };
  },
};
