import { OpInputSchemas } from "../../_schemas/ops";
import { runs, writes } from "../command";
import type { Host } from "../host";
import type { PlanAgentOp } from "./common";

/**
 * hostname.set: the static and running host name (hostnamectl), the 127.0.1.1 line of /etc/hosts
 * (so sudo and local tools resolve the name), and avahi restarted so <name>.local answers at once.
 */

const setHostname = (h: string) => ["hostnamectl", "set-hostname", "--", h];
const RESTART_AVAHI = ["systemctl", "restart", "--", "avahi-daemon.service"];

/** /etc/hosts with exactly one 127.0.1.1 line naming `hostname`; other lines untouched. */
export function withHostsLine(current: string, hostname: string): string {
  const ours = (l: string) => /^127\.0\.1\.1\s/.test(l);
  const lines = current.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const first = lines.findIndex(ours);
  const out = lines.filter((l) => !ours(l));
  // Where the old line was, else right after 127.0.0.1 (Debian's layout), else at the end.
  const at = first !== -1 ? first : lines.findIndex((l) => /^127\.0\.0\.1\s/.test(l)) + 1 || lines.length;
  out.splice(at, 0, `127.0.1.1\t${hostname}`);
  return `${out.join("\n")}\n`;
}

async function observe(host: Host) {
  return {
    static: (await host.readFile("/etc/hostname"))?.trim() ?? null,
    running: (await host.readFile("/proc/sys/kernel/hostname"))?.trim() ?? null,
    hosts: (await host.readFile("/etc/hosts")) ?? "",
  };
}

export const hostnameSet: PlanAgentOp<"hostname.set"> = {
  name: "hostname.set",
  input: OpInputSchemas["hostname.set"],
  secrets: [],

  preview: (input) => [
    runs(setHostname(input.hostname)),
    writes("/etc/hosts", 0o644, withHostsLine("127.0.0.1\tlocalhost\n", input.hostname)),
    runs(RESTART_AVAHI),
  ],

  async run({ hostname }, _secrets, host) {
    const before = await observe(host);
    const nameDiffers = before.static !== hostname || before.running !== hostname;
    const hosts = withHostsLine(before.hosts, hostname);
    const hostsDiffer = hosts !== before.hosts;
    if (nameDiffers) await host.run(setHostname(hostname));
    if (hostsDiffer) await host.writeFile("/etc/hosts", hosts, 0o644);
    if (nameDiffers || hostsDiffer) await host.run(RESTART_AVAHI);

    const after = await observe(host);
    return {
      changed: nameDiffers || hostsDiffer,
      verified:
        after.static === hostname &&
        after.running === hostname &&
        withHostsLine(after.hosts, hostname) === after.hosts,
      detail: { hostname: after.static, running: after.running },
    };
  },
};
