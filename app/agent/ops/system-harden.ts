import path from "node:path";
import { OpInputSchemas } from "../../_schemas/ops";
import { runs, writes } from "../command";
import type { Host } from "../host";
import type { PlanAgentOp } from "./common";

/**
 * system.harden: kernel and network sysctls in /etc/sysctl.d/90-freehold.conf, applied at once
 * and verified in /proc/sys. IP forwarding is left alone (podman needs it), and so are router
 * advertisements (SLAAC). A key this kernel lacks (no Yama, no BPF JIT) is skipped, not failed.
 *
 * Also the rest of the base hardening, as drop-ins (HARDENING_FILES): kernel modules an appliance
 * never needs refuse to load, no core dumps, idle shells end, debsums checks the installed files
 * weekly; and two keys of /etc/login.defs (LOGIN_DEFS). USB storage stays: backups go to USB disks.
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
  "kernel.core_uses_pid": "1",
};

/**
 * File systems, network protocols and buses this box has no use for; `install … /bin/false` also
 * stops a module another one pulls in (a blacklist alone only stops autoloading). Old kernel bugs
 * in them were reachable by any user who could make the kernel load them (a USB stick, a socket).
 */
const REFUSED_MODULES = [
  // file systems: a backup disk is ext4 (formatted by us) and the data volume is LUKS2 + ext4
  "cramfs",
  "freevxfs",
  "hfs",
  "hfsplus",
  "jffs2",
  "squashfs",
  "udf",
  // network protocols
  "dccp",
  "sctp",
  "rds",
  "tipc",
  // FireWire: DMA from a plugged-in device
  "firewire-core",
  "firewire-ohci",
  "firewire-sbp2",
];

const HEADER = "# Freehold hardening, written by freehold-agent (system.harden); edits are overwritten.";

export const HARDENING_FILES: { path: string; mode: number; content: string }[] = [
  {
    path: "/etc/modprobe.d/freehold-hardening.conf",
    mode: 0o644,
    content: [
      HEADER,
      ...REFUSED_MODULES.flatMap((m) => [`install ${m} /bin/false`, `blacklist ${m}`]),
      "",
    ].join("\n"),
  },
  {
    // A core dump can hold a process's secrets (the agent's passphrases, the web app's session keys).
    path: "/etc/systemd/coredump.conf.d/90-freehold.conf",
    mode: 0o644,
    content: [HEADER, "[Coredump]", "Storage=none", "ProcessSizeMax=0", ""].join("\n"),
  },
  {
    path: "/etc/security/limits.d/90-freehold.conf",
    mode: 0o644,
    content: [HEADER, "* soft core 0", "* hard core 0", ""].join("\n"),
  },
  {
    // Login shells (SSH, the web terminal, the console): no core files; an idle one ends after 15 min.
    path: "/etc/profile.d/freehold-hardening.sh",
    mode: 0o644,
    content: [HEADER, "ulimit -c 0", "TMOUT=900", "readonly TMOUT", "export TMOUT", ""].join("\n"),
  },
  {
    // debsums (in the image) compares installed files with the packages' checksums, weekly, by cron.
    path: "/etc/default/debsums",
    mode: 0o644,
    content: [HEADER, "CRON_CHECK=weekly", ""].join("\n"),
  },
];

export const LOGIN_DEFS = "/etc/login.defs";
/**
 * New files readable by their group only (pam_umask reads UMASK), and the rounds for a SHA-512
 * crypt hash if one is ever made (Debian's own method is yescrypt).
 */
export const LOGIN_DEFS_KEYS: Record<string, string> = { UMASK: "027", SHA_CRYPT_MIN_ROUNDS: "65536" };

/** login.defs with each key set: its first active line replaced (later ones dropped), else appended. */
export function withLoginDefs(text: string, keys: Record<string, string> = LOGIN_DEFS_KEYS): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const [key, value] of Object.entries(keys)) {
    const wanted = `${key} ${value}`;
    const active = new RegExp(`^\\s*${key}\\s`);
    const at = lines.findIndex((l) => active.test(l));
    if (at >= 0) lines[at] = wanted;
    else lines.push(wanted);
    // Only the first occurrence counts for login.defs readers; drop later duplicates.
    for (let i = lines.length - 1; i > (at >= 0 ? at : lines.length - 1); i--)
      if (active.test(lines[i] ?? "")) lines.splice(i, 1);
  }
  return `${lines.join("\n")}\n`;
}

export function renderSysctl(): string {
  return [
    "# Freehold kernel hardening, written by freehold-agent (system.harden); edits are overwritten.",
    ...Object.entries(SYSCTLS).map(([key, value]) => `${key} = ${value}`),
    "",
  ].join("\n");
}

const mkdir = (file: string) => ["mkdir", "-p", "-m", "0755", "--", path.dirname(file)];

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

  preview: () => [
    writes(SYSCTL_FILE, 0o644, renderSysctl()),
    runs(APPLY),
    ...HARDENING_FILES.flatMap((f) => [runs(mkdir(f.path)), writes(f.path, f.mode, f.content)]),
    writes(LOGIN_DEFS, 0o644, "(UMASK 027, SHA_CRYPT_MIN_ROUNDS 65536 set in the existing file)"),
  ],

  async run(_input, _secrets, host) {
    const content = renderSysctl();
    const fileDiffers = (await host.readFile(SYSCTL_FILE)) !== content;
    const before = await observe(host);
    if (fileDiffers) await host.writeFile(SYSCTL_FILE, content, 0o644);
    // A key the kernel refuses makes sysctl exit 1 or 255; verify then names it, instead of a bare failure.
    if (fileDiffers || before.differ.length > 0) await host.run(APPLY, { okCodes: [0, 1, 255] });
    const after = await observe(host);

    let filesChanged = false;
    for (const f of HARDENING_FILES) {
      if ((await host.readFile(f.path)) === f.content) continue;
      await host.run(mkdir(f.path));
      await host.writeFile(f.path, f.content, f.mode);
      filesChanged = true;
    }
    const defs = await host.readFile(LOGIN_DEFS);
    const wantedDefs = defs === null ? null : withLoginDefs(defs);
    if (wantedDefs !== null && wantedDefs !== defs) {
      await host.writeFile(LOGIN_DEFS, wantedDefs, 0o644);
      filesChanged = true;
    }
    const wrong: string[] = [];
    for (const f of HARDENING_FILES) if ((await host.readFile(f.path)) !== f.content) wrong.push(f.path);
    const defsNow = await host.readFile(LOGIN_DEFS);
    if (defsNow !== null && withLoginDefs(defsNow) !== defsNow) wrong.push(LOGIN_DEFS);

    return {
      changed: fileDiffers || before.differ.length > 0 || filesChanged,
      verified:
        after.differ.length === 0 && (await host.readFile(SYSCTL_FILE)) === content && wrong.length === 0,
      detail: {
        settings: Object.keys(SYSCTLS).length - after.absent.length,
        files: HARDENING_FILES.length,
        ...(after.absent.length > 0 ? { absent: after.absent.join(", ") } : {}),
        ...(after.differ.length > 0 || wrong.length > 0
          ? { problems: [...after.differ, ...wrong].join(", ") }
          : {}),
      },
    };
  },
};
