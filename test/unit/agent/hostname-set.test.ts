import { describe, expect, it } from "vitest";
import { hostnameSet, withHostsLine } from "../../../app/agent/ops/hostname-set";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const DEBIAN_HOSTS =
  "127.0.0.1\tlocalhost\n127.0.1.1\tfreehold\n\n::1\tlocalhost ip6-localhost ip6-loopback\n";

function machine(options: { nameSticks?: boolean } = {}) {
  const host = new RecordingHost()
    .file("/etc/hostname", "freehold\n")
    .file("/proc/sys/kernel/hostname", "freehold\n")
    .file("/etc/hosts", DEBIAN_HOSTS);
  host.on(["hostnamectl", "set-hostname", "--"], (argv) => {
    if (options.nameSticks !== false) {
      host.files.set("/etc/hostname", { content: `${argv[3]}\n`, mode: 0o644 });
      host.files.set("/proc/sys/kernel/hostname", { content: `${argv[3]}\n`, mode: 0o444 });
    }
    return {};
  });
  return host;
}

describe("hostname.set", () => {
  it("sets the name, the 127.0.1.1 line and restarts avahi on a fresh machine", async () => {
    const host = machine();
    expect(await hostnameSet.run({ hostname: "homebox" }, {}, host)).toMatchObject({
      changed: true,
      verified: true,
    });
    expect(host.lines()).toEqual([
      "hostnamectl set-hostname -- homebox",
      "write /etc/hosts",
      "systemctl restart -- avahi-daemon.service",
    ]);
    expect(host.files.get("/etc/hosts")?.content).toBe(
      "127.0.0.1\tlocalhost\n127.0.1.1\thomebox\n\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    expectPreviewFollowed(hostnameSet.preview({ hostname: "homebox" }), host.calls);
  });

  it("changes nothing on a second run", async () => {
    const host = machine();
    await hostnameSet.run({ hostname: "homebox" }, {}, host);
    host.reset();
    expect(await hostnameSet.run({ hostname: "homebox" }, {}, host)).toMatchObject({
      changed: false,
      verified: true,
    });
    expect(host.calls).toEqual([]);
  });

  it("reports verified: false when the name did not change", async () => {
    const host = machine({ nameSticks: false });
    expect((await hostnameSet.run({ hostname: "homebox" }, {}, host)).verified).toBe(false);
  });

  it("adds the line after 127.0.0.1 when there is none, and keeps exactly one", () => {
    expect(withHostsLine("127.0.0.1 localhost\n::1 localhost\n", "a")).toBe(
      "127.0.0.1 localhost\n127.0.1.1\ta\n::1 localhost\n",
    );
    expect(withHostsLine("127.0.1.1 x\n127.0.1.1 y\n", "a")).toBe("127.0.1.1\ta\n");
    expect(withHostsLine("", "a")).toBe("127.0.1.1\ta\n");
  });
});
