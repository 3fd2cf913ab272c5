import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OpError } from "../../../app/agent/host";
import { RealHost } from "../../../app/agent/real-host";

const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-host-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const host = new RealHost();

describe("RealHost", () => {
  it("runs argv without a shell: metacharacters stay literal", async () => {
    const r = await host.run(["printf", "%s|%s", "$(reboot)", "a;b `x`"]);
    expect(r).toEqual({ code: 0, stdout: "$(reboot)|a;b `x`", stderr: "" });
  });

  it("passes stdin and a second secret on fd 3", async () => {
    expect((await host.run(["cat"], { stdin: "on stdin" })).stdout).toBe("on stdin");
    expect((await host.run(["sh", "-c", "cat <&3"], { fd3: "on fd 3" })).stdout).toBe("on fd 3");
    // Without stdin the tool reads end-of-file at once instead of waiting.
    expect((await host.run(["cat"])).stdout).toBe("");
  });

  it("lets ssh-keygen check a key read from stdin (-f -), as user.ensure does", async () => {
    const key = path.join(tmp, "k");
    await host.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", key]);
    const pub = readFileSync(`${key}.pub`, "utf8");
    rmSync(key);
    rmSync(`${key}.pub`);
    const ok = await host.run(["ssh-keygen", "-l", "-f", "-"], { stdin: pub, okCodes: [0, 255] });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^256 SHA256:\S+ t \(ED25519\)/);
    const bad = await host.run(["ssh-keygen", "-l", "-f", "-"], {
      stdin: "ssh-ed25519 AAAA x\n",
      okCodes: [0, 255],
    });
    expect(bad.code).toBe(255);
  });

  it("runs in the C locale with a fixed PATH", async () => {
    const env = (await host.run(["env"])).stdout;
    expect(env).toContain("LC_ALL=C\n");
    expect(env).toContain("PATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
  });

  it("rejects with an OpError unless the exit code is an answer", async () => {
    await expect(host.run(["sh", "-c", "echo nope >&2; exit 3"])).rejects.toThrow(
      "sh -c failed (exit 3): nope",
    );
    expect((await host.run(["false"], { okCodes: [0, 1] })).code).toBe(1);
    await expect(host.run(["no-such-tool-freehold"])).rejects.toThrow(
      "no-such-tool-freehold is not installed",
    );
    await expect(host.run(["sleep", "5"], { timeoutMs: 200 })).rejects.toThrow(/took too long/);
    await expect(host.run([])).rejects.toBeInstanceOf(OpError);
  });

  it("replaces files atomically with the mode asked for, whatever the umask", async () => {
    const file = path.join(tmp, "secret.conf");
    expect(await host.readFile(file)).toBeNull();
    expect(await host.exists(file)).toBe(false);
    await host.writeFile(file, "one\n", 0o600);
    await host.writeFile(file, "two\n", 0o640);
    expect(readFileSync(file, "utf8")).toBe("two\n");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(tmp)).toEqual(["secret.conf"]); // no temp file left behind
    expect(await host.exists(file)).toBe(true);
    await host.removeFile(file);
    await host.removeFile(file);
    expect(await host.readFile(file)).toBeNull();
  });

  it("reports progress through the callback", () => {
    const seen: string[] = [];
    new RealHost((m) => seen.push(m)).progress("formatting");
    expect(seen).toEqual(["formatting"]);
  });

  it("serves a secret on a one-shot socket that a tool reads by path, then removes it", async () => {
    const runtime = path.join(tmp, "run");
    const served = new RealHost(() => {}, runtime);
    const secret = "a passphrase with spaces ✓";
    let seen: string | undefined;
    const result = await served.serveSecret(secret, async (socket) => {
      expect(statSync(runtime).mode & 0o777).toBe(0o700);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      // Another process connects to the path and reads to the end, as systemd's tools do.
      const read = [
        "python3",
        "-c",
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nb=b''\nwhile True:\n c=s.recv(4096)\n if not c: break\n b+=c\nsys.stdout.write(b.decode())",
        socket,
      ];
      seen = (await served.run(read)).stdout;
      return "used";
    });
    expect(result).toBe("used");
    expect(seen).toBe(secret);
    expect(readdirSync(runtime)).toEqual([]);
  });
});
