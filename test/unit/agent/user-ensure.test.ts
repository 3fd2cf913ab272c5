import { describe, expect, it } from "vitest";
import { OpError } from "../../../app/agent/host";
import { userEnsure } from "../../../app/agent/ops/user-ensure";
import { expectPreviewFollowed, RecordingHost } from "./recording-host";

const HASH = "$y$j9T$abcdefghijklmnop$QRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBtHlmI9u0pVXDtFq6aZ1ZgCRa5xkKQeYvDOt5gE+5oN alice@laptop";
const input = {
  username: "alice",
  passwordHash: { secret: "owner.unixPasswordHash" as const },
  sshAuthorizedKeys: [KEY],
  sudo: true,
};
const secrets = { "owner.unixPasswordHash": HASH };

/** A fake account database behind the commands user.ensure runs. */
function machine(options: { sudoSticks?: boolean; keyValid?: boolean } = {}) {
  const users = new Map<string, { groups: Set<string>; shadow: string }>();
  const dirs = new Set<string>();
  const host = new RecordingHost(secrets);
  const user = (argv: readonly string[]) => users.get(argv.at(-1) ?? "");
  host
    .on(["getent", "passwd", "--"], (argv) =>
      user(argv) ? { stdout: `${argv[3]}:x:1000:1000::/home/${argv[3]}:/bin/bash\n` } : { code: 2 },
    )
    .on(["getent", "shadow", "--"], (argv) => {
      const u = user(argv);
      return u ? { stdout: `${argv[3]}:${u.shadow}:19000:0:99999:7:::\n` } : { code: 2 };
    })
    .on(["id", "-nG", "--"], (argv) => ({
      stdout: `${argv[3]} ${[...(user(argv)?.groups ?? [])].join(" ")}\n`,
    }))
    .on(["useradd"], (argv) => {
      users.set(argv.at(-1) ?? "", { groups: new Set(), shadow: "!" });
      return {};
    })
    .on(["usermod"], (argv) => {
      if (options.sudoSticks !== false) user(argv)?.groups.add("sudo");
      return {};
    })
    .on(["chpasswd", "--encrypted"], (_argv, o) => {
      const [name, hash] = (o.stdin ?? "").trim().split(":");
      const u = users.get(name ?? "");
      if (u && hash) u.shadow = hash;
      return {};
    })
    .on(["passwd", "--lock", "--"], (argv) => {
      const u = user(argv);
      if (u) u.shadow = `!${u.shadow}`;
      return {};
    })
    .on(["ssh-keygen"], () =>
      options.keyValid === false ? { code: 255 } : { stdout: "256 SHA256:x (ED25519)\n" },
    )
    .on(["stat", "-c", "%F", "--"], (argv) =>
      dirs.has(argv[4] ?? "") ? { stdout: "directory\n" } : { code: 1 },
    )
    .on(["install", "-d"], (argv) => {
      dirs.add(argv.at(-1) ?? "");
      return {};
    });
  return { host, users };
}

describe("user.ensure", () => {
  it("creates the account on a fresh machine with the exact argv, then verifies it", async () => {
    const { host } = machine();
    const outcome = await userEnsure.run(input, secrets, host);
    expect(outcome).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toEqual([
      "getent passwd -- alice",
      "ssh-keygen -l -f -",
      "useradd --create-home --shell /bin/bash --user-group -- alice",
      "getent passwd -- alice",
      "id -nG -- alice",
      "getent shadow -- alice",
      "usermod --append --groups sudo -- alice",
      "chpasswd --encrypted",
      "stat -c %F -- /home/alice/.ssh",
      "install -d -m 0700 -o alice -g alice -- /home/alice/.ssh",
      "write /home/alice/.ssh/authorized_keys",
      "chown -R -- alice:alice /home/alice/.ssh",
      "getent passwd -- alice",
      "id -nG -- alice",
      "getent shadow -- alice",
      "write /var/lib/freehold-agent/owner",
    ]);
    // The web terminal's account, recorded by root once the account verified.
    expect(host.files.get("/var/lib/freehold-agent/owner")).toEqual({ content: "alice\n", mode: 0o644 });
    expect(host.calls.find((c) => c.argv[0] === "chpasswd")?.stdin).toEqual({
      secret: "owner.unixPasswordHash",
    });
    expect(host.files.get("/home/alice/.ssh/authorized_keys")).toEqual({ content: `${KEY}\n`, mode: 0o600 });
    expectPreviewFollowed(userEnsure.preview(input), host.calls);
    host.expectNoLeaks();
  });

  it("changes nothing on a second run", async () => {
    const { host } = machine();
    await userEnsure.run(input, secrets, host);
    host.reset();
    expect(await userEnsure.run(input, secrets, host)).toMatchObject({ changed: false, verified: true });
    expect(host.lines()).toEqual([
      "getent passwd -- alice",
      "id -nG -- alice",
      "getent shadow -- alice",
      "getent passwd -- alice",
      "id -nG -- alice",
      "getent shadow -- alice",
    ]);
  });

  it("reports verified: false when the machine does not show the wanted state", async () => {
    const { host } = machine({ sudoSticks: false });
    const outcome = await userEnsure.run(input, secrets, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain("not in sudo");
    // An account that did not verify is never recorded as the terminal's owner.
    expect(host.files.has("/var/lib/freehold-agent/owner")).toBe(false);
  });

  it("rewrites an owner record that names someone else, and only that", async () => {
    const { host } = machine();
    await userEnsure.run(input, secrets, host);
    host.file("/var/lib/freehold-agent/owner", "mallory\n");
    host.reset();
    expect(await userEnsure.run(input, secrets, host)).toMatchObject({ changed: true, verified: true });
    expect(host.changes([["getent"], ["id"]]).map((c) => c.writes?.path ?? c.argv.join(" "))).toEqual([
      "/var/lib/freehold-agent/owner",
    ]);
    expect(host.files.get("/var/lib/freehold-agent/owner")?.content).toBe("alice\n");
  });

  it("keeps the password locked without a hash, and locks one that was set", async () => {
    const { host, users } = machine();
    const keysOnly = { username: "bob", sshAuthorizedKeys: [], sudo: false };
    expect(await userEnsure.run(keysOnly, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).not.toContain("passwd --lock -- bob");
    expect(host.lines().some((l) => l.includes(".ssh"))).toBe(false);
    const bob = users.get("bob");
    if (bob) bob.shadow = HASH;
    host.reset();
    expect(await userEnsure.run(keysOnly, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toContain("passwd --lock -- bob");
  });

  it("refuses an invalid key before creating anything", async () => {
    const { host } = machine({ keyValid: false });
    await expect(userEnsure.run(input, secrets, host)).rejects.toThrow(OpError);
    expect(host.lines().some((l) => l.startsWith("useradd"))).toBe(false);
  });

  it("refuses a hash that could smuggle a second chpasswd line", async () => {
    const { host } = machine();
    const bad = `${HASH}\nroot:$6$x`;
    await expect(userEnsure.run(input, { "owner.unixPasswordHash": bad }, host)).rejects.toThrow(/crypt/);
    expect(host.calls).toEqual([]);
  });

  it("refuses a ~/.ssh that is not a directory (a symlink would redirect root's write)", async () => {
    const { host } = machine();
    host.on(["stat", "-c", "%F", "--"], { stdout: "symbolic link\n" });
    await expect(userEnsure.run(input, secrets, host)).rejects.toThrow(/not a directory/);
    expect(host.files.has("/home/alice/.ssh/authorized_keys")).toBe(false);
  });
});
