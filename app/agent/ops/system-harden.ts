import { OpInputSchemas } from "../../_schemas/ops";
import { runs, writes } from "../command";
import type { Host } from "../host";
import type { PlanAgentOp } from "./common";

/**
 * system.harden: kernel and network sysctls in /etc/sysctl.d/90-freehold.conf, applied at once
 * and verified in /proc/sys. IP forwarding is left alone (podman needs it), and so are router
 * advertisements (SLAAC). A key this kernel lacks (no Yama, no BPF JIT) is skipped, not failed.
 */

export const SYSCTL_FILE = "/etc/sysctl.d/90-freehold.conf";
const APPLY = ["sysctl", "--quiet", "--ignore", `--load=${SYSCTL_FILE}`];

export const SYSCTLS: Record<string, string> = {
  "kernel.kptr_restrict": "2",
  "kernel.dmesg_restrict": "1",
  "kernel.unprivileged_bpf_disabled": "1",
  "net.core.bpf_jit_harden": "2",
  "kernel.yama.ptrace_scope": "1",
  "kernel.sysrq": "0",
  "kernel.perf_event_paranoid": "3",
  "dev.tty.ldisc_autoload": "0",
  "fs.protected_fifos": "2",
  "fs.protected_regular": "2",
  "fs.protected_symlinks": "1",
  "fs.protected_hardlinks": "1",
  "fs.suid_dumpable": "0",
  "net.ipv4.conf.all.rp_filter": "1",
  "net.ipv4.conf.default.rp_filter": "1",
  "net.ipv4.conf.all.accept_redirects": "0",
  "net.ipv4.conf.default.accept_redirects": "0",
  "net.ipv4.conf.all.secure_redirects": "0",
  "net.ipv4.conf.default.secure_redirects": "0",
  "net.ipv6.conf.all.accept_redirects": "0",
  "net.ipv6.conf.default.accept_redirects": "0",
  "net.ipv4.conf.all.send_redirects": "0",
  "net.ipv4.conf.default.send_redirects": "0",
  "net.ipv4.conf.all.accept_source_route": "0",
  "net.ipv4.conf.default.accept_source_route": "0",
  "net.ipv6.conf.all.accept_source_route": "0",
  "net.ipv6.conf.default.accept_source_route": "0",
  "net.ipv4.conf.all.log_martians": "1",
  "net.ipv4.conf.default.log_martians": "1",
  "net.ipv4.icmp_echo_ignore_broadcasts": "1",
  "net.ipv4.icmp_ignore_bogus_error_responses": "1",
  "net.ipv4.tcp_syncookies": "1",
  "net.ipv4.tcp_rfc1337": "1",
};

export function renderSysctl(): string {
  return [
    "# Freehold kernel hardening, written by freehold-agent (system.harden); edits are overwritten.",
    ...Object.entries(SYSCTLS).map(([key, value]) => `${key} = ${value}`),
    "",
  ].join("\n");
}

const procPath = (key: string) => `/proc/sys/${key.replaceAll(".", "/")}`;

/** Keys whose live value differs; keys the kernel lacks are listed apart. */
async function observe(host: Host): Promise<{ differ: string[]; absent: string[] }> {
  const differ: string[] = [];
  const absent: string[] = [];
  for (const [key, want] of Object.entries(SYSCTLS)) {
    const value = await host.readFile(procPath(key));
    if (value === null) absent.push(key);
    else if (value.trim().split(/\s+/).join(" ") !== want) differ.push(key);
  }
  return { differ, absent };
}

export const systemHarden: PlanAgentOp<"system.harden"> = {
  name: "system.harden",
  input: OpInputSchemas["system.harden"],
  secrets: [],

  preview: () => [writes(SYSCTL_FILE, 0o644, renderSysctl()), runs(APPLY)],

  async run(_input, _secrets, host) {
    const content = renderSysctl();
    const fileDiffers = (await host.readFile(SYSCTL_FILE)) !== content;
    const before = await observe(host);
    if (fileDiffers) await host.writeFile(SYSCTL_FILE, content, 0o644);
    // A key the kernel refuses makes sysctl exit 1 or 255; verify then names it, instead of a bare failure.
    if (fileDiffers || before.differ.length > 0) await host.run(APPLY, { okCodes: [0, 1, 255] });
    const after = await observe(host);
    return {
      changed: fileDiffers || before.differ.length > 0,
      verified: after.differ.length === 0 && (await host.readFile(SYSCTL_FILE)) === content,
      detail: {
        settings: Object.keys(SYSCTLS).length - after.absent.length,
        ...(after.absent.length > 0 ? { absent: after.absent.join(", ") } : {}),
        ...(after.differ.length > 0 ? { problems: after.differ.join(", ") } : {}),
      },
    };
  },
};
