/**
 * The in-guest self-test, delivered to a booted image as systemd credentials through SMBIOS
 * type 11 strings, so the image under test carries no test code. systemd's debug generator turns
 * `systemd.extra-unit.*` credentials into units and `systemd.unit-dropin.*` into drop-ins.
 * The script reports on a virtio serial port of its own: the console's tty is hung up by getty.
 */
import { z } from "zod";

export const SELFTEST_PORT = "org.freehold.selftest";

/**
 * Shell functions for guest scripts: `logged TEXT`, when freehold-web first logged a line containing
 * TEXT, in µs of CLOCK_MONOTONIC (empty until then); `listening`, when it logged that it listens
 * ("... mode on URL").
 */
export const WEB_LISTENING_SH = `logged() { journalctl -b -u freehold-web.service -o json --output-fields=MESSAGE --no-pager | grep -m1 "$1" | grep -o '"__MONOTONIC_TIMESTAMP":"[0-9]*"' | tr -dc 0-9; }
listening() { logged 'mode on '; }`;

/**
 * Waits (at most `seconds`) until freehold-web logged its first page: one journalctl that follows
 * the journal and sleeps between writes, stopped once the line came (a pipe into `grep -m1` would
 * leave the script waiting for journalctl's next write, which may never come).
 */
export function waitForFirstPageSh(seconds: number): string {
  return `exec 3< <(exec timeout ${seconds} journalctl -b -f -n all -u freehold-web.service -o cat --no-pager)
follower=$!
grep -q -m1 'first page answered' <&3
kill "$follower" 2>/dev/null
exec 3<&-`;
}

// Runs once the web app answered its first page and the boot has settled; every line is KEY=VALUE,
// between BEGIN and END markers. The harness asks for the wizard before it reads this report, and
// the benchmark times that first page: the test's own work (journalctl, systemd-analyze, lsblk)
// waits, in one journalctl that sleeps until the web app logs the page, so that it does not take
// CPU from the web app's start in the wizard's boot only (the masked boot it is compared with runs
// no self-test).
const SCRIPT = `#!/bin/bash
set -u
out=/dev/virtio-ports/${SELFTEST_PORT}
${waitForFirstPageSh(900)}
state=$(timeout 240 systemctl is-system-running --wait 2>/dev/null)
{
  echo "FREEHOLD-SELFTEST-BEGIN"
  echo "state=$state"
  echo "failed=$(systemctl --failed --plain --no-legend --no-pager | awk '{print $1}' | paste -sd, -)"
  echo "web=$(systemctl is-active freehold-web.service)"
  echo "agent_socket=$(stat -c '%a %U %G' /run/freehold/agent.sock 2>/dev/null)"
  echo "nft_input_policy=$(nft list chain inet filter input 2>/dev/null | sed -n 's/.*policy \\([a-z]*\\);.*/\\1/p' | head -n1)"
  root=$(findmnt -no SOURCE /)
  disk=/dev/$(lsblk -no PKNAME "$root" | head -n1)
  echo "root_disk=$disk"
  lsblk -nrpo NAME,PARTLABEL,FSTYPE,SIZE -b "$disk" | sed 's/^/part=/'
  echo "ssh_host_key=$(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null | awk '{print $2}')"
  echo "machine_id=$(cat /etc/machine-id)"
  # Boot timeline in µs of CLOCK_MONOTONIC (0 = kernel start), for the time-to-wizard benchmark.
  echo "t_userspace=$(systemctl show --value -p UserspaceTimestampMonotonic)"
  for unit in freehold-tls.service freehold-setup-code.service freehold-web.service multi-user.target; do
    echo "t_active_$unit=$(systemctl show --value -p ActiveEnterTimestampMonotonic "$unit")"
  done
  echo "t_exec_freehold-web.service=$(systemctl show --value -p ExecMainStartTimestampMonotonic freehold-web.service)"
  # The web unit is active once Node started; it listens seconds later (it logs "... mode on URL").
  ${WEB_LISTENING_SH}
  for _ in $(seq 120); do [ -n "$(listening)" ] && break; sleep 1; done
  echo "t_web_listening=$(listening)"
  echo "t_web_first_page=$(logged 'first page answered')"
  # Whether Node started from the code cache the image build recorded (freehold-web logs it on listening).
  echo "code_cache=$(journalctl -b -u freehold-web.service -o cat --no-pager | grep -m1 -o 'code cache.*')"
  # What the web app waited for (unit, when it became active, how long it took to start).
  systemd-analyze critical-chain --no-pager freehold-web.service 2>/dev/null | grep -E '[.][a-z]+ @' | sed 's/^[^a-z0-9]*/chain=/'
  echo "FREEHOLD-SELFTEST-END"
} > "$out" 2>&1
`;

const UNIT = `[Unit]
Description=Freehold boot self-test (injected by the test harness)
After=multi-user.target freehold-web.service
[Service]
# Not oneshot: is-system-running --wait inside would wait for this very job.
Type=exec
LoadCredential=freehold.selftest.sh
ExecStart=/bin/bash \${CREDENTIALS_DIRECTORY}/freehold.selftest.sh
`;

const WANTS = `[Unit]
Wants=freehold-selftest.service
`;

/** A systemd credential as an SMBIOS type 11 string (the content base64-encoded). */
export function binaryCredential(name: string, content: string): string {
  return `io.systemd.credential.binary:${name}=${Buffer.from(content).toString("base64")}`;
}

/** SMBIOS type 11 strings that install and start the self-test unit. */
export function selftestCredentials(): string[] {
  return [
    binaryCredential("freehold.selftest.sh", SCRIPT),
    binaryCredential("systemd.extra-unit.freehold-selftest.service", UNIT),
    binaryCredential("systemd.unit-dropin.multi-user.target~freehold-selftest", WANTS),
  ];
}

export const JOURNAL_PORT = "org.freehold.journal";

const JOURNAL_UNIT = `[Unit]
Description=Freehold test harness: the web app's and the agent's journal on a virtio port
After=systemd-journald.service
[Service]
ExecStart=/bin/sh -c 'exec journalctl --follow --no-pager -o short-monotonic -u freehold-web.service -u freehold-agent.service -u freehold-agent.socket > /dev/virtio-ports/${JOURNAL_PORT}'
`;

/** SMBIOS credentials that stream the web app's and agent's journal to JOURNAL_PORT (for failures). */
export function journalTapCredentials(): string[] {
  return [
    binaryCredential("systemd.extra-unit.freehold-journal-tap.service", JOURNAL_UNIT),
    binaryCredential(
      "systemd.unit-dropin.multi-user.target~freehold-journal-tap",
      "[Unit]\nWants=freehold-journal-tap.service\n",
    ),
  ];
}

/** A drop-in credential that keeps a unit from starting (used to time a boot without the wizard). */
export function maskUnitCredential(unit: string): string {
  return binaryCredential(
    `systemd.unit-dropin.${unit}~freehold-masked`,
    "[Unit]\nConditionPathExists=/nonexistent\n",
  );
}

export const SelftestReportSchema = z.object({
  state: z.string(),
  failed: z.array(z.string()),
  web: z.string(),
  agentSocket: z.string(),
  nftInputPolicy: z.string(),
  rootDisk: z.string(),
  partitions: z.array(
    z.object({ name: z.string(), label: z.string(), fstype: z.string(), sizeBytes: z.number() }),
  ),
  sshHostKey: z.string(),
  machineId: z.string(),
  /** freehold-web's line about its V8 code cache ("code cache: N modules from the cache, ..."). */
  codeCache: z.string(),
  /** Boot milestones in seconds since the kernel started (absent when the guest had no value). */
  timeline: z.record(z.string(), z.number()),
  /** `systemd-analyze critical-chain freehold-web.service`, one unit per line ("x.service @9.1s +2.3s"). */
  criticalChain: z.array(z.string()),
});
export type SelftestReport = z.infer<typeof SelftestReportSchema>;

/** Parses the KEY=VALUE report between the markers; null until END has arrived. */
export function parseSelftest(text: string): SelftestReport | null {
  const match = /FREEHOLD-SELFTEST-BEGIN\r?\n([\s\S]*?)FREEHOLD-SELFTEST-END/.exec(text);
  if (!match?.[1]) return null;
  const values = new Map<string, string>();
  const partitions: SelftestReport["partitions"] = [];
  const timeline: Record<string, number> = {};
  const criticalChain: string[] = [];
  for (const line of match[1].split(/\r?\n/)) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === "part") {
      // lsblk -r prints every column, empty ones too, and escapes spaces as \x20.
      const [name = "", label = "", fstype = "", size = "0"] = value.split(" ");
      if (name !== "")
        partitions.push({ name, label: label.replace(/\\x20/g, " "), fstype, sizeBytes: Number(size) });
    } else if (key === "chain") {
      criticalChain.push(value);
    } else if (key.startsWith("t_")) {
      const us = Number(value);
      if (value !== "" && Number.isFinite(us) && us > 0) timeline[key.slice(2)] = us / 1e6;
    } else {
      values.set(key, value);
    }
  }
  return SelftestReportSchema.parse({
    state: values.get("state") ?? "",
    failed: (values.get("failed") ?? "").split(",").filter(Boolean),
    web: values.get("web") ?? "",
    agentSocket: values.get("agent_socket") ?? "",
    nftInputPolicy: values.get("nft_input_policy") ?? "",
    rootDisk: values.get("root_disk") ?? "",
    partitions,
    sshHostKey: values.get("ssh_host_key") ?? "",
    machineId: values.get("machine_id") ?? "",
    codeCache: values.get("code_cache") ?? "",
    timeline,
    criticalChain,
  });
}
