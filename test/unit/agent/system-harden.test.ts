import { describe, expect, it } from "vitest";
import {
  HARDENING_FILES,
  LOGIN_DEFS,
  renderSysctl,
  SYSCTL_FILE,
  SYSCTLS,
  systemHarden,
  withLoginDefs,
} from "../../../app/agent/ops/system-harden";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const proc = (key: string) => `/proc/sys/${key.replaceAll(".", "/")}`;

/** The shape of trixie's /etc/login.defs: UMASK absent, SHA_CRYPT_MIN_ROUNDS commented out. */
const DEBIAN_LOGIN_DEFS = [
  "# /etc/login.defs - Configuration control definitions for the login package.",
  "MAIL_DIR        /var/mail",
  "ENCRYPT_METHOD YESCRYPT",
  "# SHA_CRYPT_MIN_ROUNDS 5000",
  "",
].join("\n");

/** /proc/sys with Debian's defaults (different from ours), without Yama; sysctl --load copies the file in. */
function machine(options: { applySticks?: boolean } = {}) {
  const host = new RecordingHost();
  host.file(LOGIN_DEFS, DEBIAN_LOGIN_DEFS);
  for (const key of Object.keys(SYSCTLS)) {
    if (key !== "kernel.yama.ptrace_scope") host.file(proc(key), "0\n");
  }
  host.on(["sysctl"], () => {
    if (options.applySticks === false) return {};
    for (const line of (host.files.get(SYSCTL_FILE)?.content ?? "").split("\n")) {
      const m = /^([a-z0-9_.]+) = (.*)$/.exec(line);
      if (m?.[1] && host.files.has(proc(m[1]))) host.file(proc(m[1]), `${m[2]}\n`);
    }
    return {};
  });
  return host;
}

describe("system.harden", () => {
  it("writes the sysctl file, applies it and verifies /proc/sys; a missing key is skipped", async () => {
    const host = machine();
    const outcome = await systemHarden.run({}, {}, host);
    expect(outcome).toMatchObject({
      changed: true,
      verified: true,
      detail: { absent: "kernel.yama.ptrace_scope" },
    });
    expect(host.lines().slice(0, 2)).toEqual([
      `write ${SYSCTL_FILE}`,
      `sysctl --quiet --ignore --load=${SYSCTL_FILE}`,
    ]);
    for (const f of HARDENING_FILES)
      expect(host.files.get(f.path)).toEqual({ content: f.content, mode: f.mode });
    expect(host.files.get(LOGIN_DEFS)?.content).toBe(
      `${DEBIAN_LOGIN_DEFS}UMASK 027\nSHA_CRYPT_MIN_ROUNDS 65536\n`,
    );
    expect(host.files.get(proc("kernel.kptr_restrict"))?.content).toBe("2\n");
    expectPreviewFollowed(systemHarden.preview({}), host.calls);
    host.reset();
    expect(await systemHarden.run({}, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(host.calls).toEqual([]);
  });

  it("reports verified: false when the kernel did not take the values", async () => {
    const outcome = await systemHarden.run({}, {}, machine({ applySticks: false }));
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain("kernel.dmesg_restrict");
  });

  it("reports verified: false when a hardening file does not read back as written", async () => {
    const host = machine();
    const broken = HARDENING_FILES[0]?.path ?? "";
    const write = host.writeFile.bind(host);
    host.writeFile = async (file, content, mode) => write(file, file === broken ? "" : content, mode);
    const outcome = await systemHarden.run({}, {}, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain(broken);
  });

  it("sets login.defs keys in place, keeps the rest, and is idempotent", () => {
    const text = "UMASK\t\t022\nFOO bar\n#UMASK 077\nUMASK 002\n";
    const once = withLoginDefs(text, { UMASK: "027", SHA_CRYPT_MIN_ROUNDS: "65536" });
    expect(once).toBe("UMASK 027\nFOO bar\n#UMASK 077\nSHA_CRYPT_MIN_ROUNDS 65536\n");
    expect(withLoginDefs(once, { UMASK: "027", SHA_CRYPT_MIN_ROUNDS: "65536" })).toBe(once);
  });

  it("refuses the modules an appliance never needs, but not USB storage (backups), and no core dumps", () => {
    const modprobe = HARDENING_FILES.find((f) => f.path.startsWith("/etc/modprobe.d/"))?.content ?? "";
    for (const m of ["cramfs", "udf", "dccp", "sctp", "firewire-ohci"])
      expect(modprobe).toContain(`install ${m} /bin/false\n`);
    expect(modprobe).not.toMatch(/ (usb[-_]storage|uas|ext4|vfat|dm[-_]crypt) /);
    const all = HARDENING_FILES.map((f) => f.content).join("\n");
    expect(all).toContain("Storage=none");
    expect(all).toContain("* hard core 0");
    expect(all).toMatch(/^TMOUT=900$/m);
  });

  it("covers what the issue asks for and leaves forwarding and router advertisements alone", () => {
    const text = renderSysctl();
    for (const line of [
      "kernel.kptr_restrict = 2",
      "kernel.dmesg_restrict = 1",
      "kernel.unprivileged_bpf_disabled = 1",
      "net.core.bpf_jit_harden = 2",
      "kernel.yama.ptrace_scope = 1",
      "fs.protected_fifos = 2",
      "fs.protected_regular = 2",
      "net.ipv4.conf.all.rp_filter = 1",
      "net.ipv6.conf.default.accept_redirects = 0",
      "net.ipv4.conf.all.send_redirects = 0",
      "net.ipv4.conf.all.log_martians = 1",
      "net.ipv4.tcp_syncookies = 1",
      "kernel.sysrq = 0",
    ]) {
      expect(text).toContain(`${line}\n`);
    }
    expect(text).not.toMatch(/forwarding|ip_forward|accept_ra/);
  });
});
