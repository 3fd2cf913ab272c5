import { describe, expect, it } from "vitest";
import { renderSysctl, SYSCTL_FILE, SYSCTLS, systemHarden } from "../../../app/agent/ops/system-harden";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const proc = (key: string) => `/proc/sys/${key.replaceAll(".", "/")}`;

/** /proc/sys with Debian's defaults (different from ours), without Yama; sysctl --load copies the file in. */
function machine(options: { applySticks?: boolean } = {}) {
  const host = new RecordingHost();
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
    expect(host.lines()).toEqual([`write ${SYSCTL_FILE}`, `sysctl --quiet --ignore --load=${SYSCTL_FILE}`]);
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
