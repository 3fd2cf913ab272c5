import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentPtyHost } from "../../../app/lib/terminal/agent-pty";
import { accountProblem, parsePasswd, parseShells } from "../../../app/lib/terminal/passwd";
import { localPtyHost, type PtyExit, type PtyProcess, spawnPty } from "../../../app/lib/terminal/pty";

/**
 * The real node-pty (compiled by scripts/build-native.mjs): a command's output comes back through a
 * real pseudo-terminal; the preview host runs the login shell; and, as root, the bundled agent runs
 * an account's shell through setpriv with that account's uid and groups only.
 */

const ROOT = path.resolve(__dirname, "../../..");
const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-pty-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collect(pty: PtyProcess) {
  let out = "";
  let exit: PtyExit | null = null;
  pty.onData((d) => {
    out += d;
  });
  pty.onExit((e) => {
    exit = e;
  });
  const until = async (pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(out);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(out.slice(-2000))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  // Generous: on a loaded 2-core machine a killed shell's exit took longer than the 2 s once waited.
  const exited = async (ms = 15_000): Promise<PtyExit | null> => {
    const deadline = Date.now() + ms;
    while (!exit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return exit as PtyExit | null;
  };
  return { text: () => out, exit: () => exit as PtyExit | null, until, exited };
}

describe("node-pty for real", () => {
  it("runs a command in a pty of the asked size and returns its output and exit code", async () => {
    const pty = await spawnPty(
      {
        file: "/bin/sh",
        args: ["-c", "echo freehold-$((6*7)); stty size; exit 3"],
        env: { PATH: "/usr/bin:/bin", TERM: "xterm-256color", LANG: "C.UTF-8" },
        cwd: "/",
        user: "test",
      },
      { cols: 91, rows: 33 },
    );
    const io = collect(pty);
    await io.until(/freehold-42\r\n33 91\r\n/);
    expect(await io.exited()).toEqual({ code: 3, signal: null });
  });

  it("preview: the login shell of the user running the server, resizable, ends on kill", async () => {
    const pty = await localPtyHost().open({ cols: 80, rows: 24 });
    const io = collect(pty);
    pty.write("echo freehold-$((6*7))\r");
    await io.until(/freehold-42\r\n/);
    pty.resize({ cols: 120, rows: 40 });
    pty.write("stty size\r");
    await io.until(/40 120/);
    pty.kill();
    expect(await io.exited()).not.toBeNull();
  });

  // An account the agent would accept (uid >= 1000, a shell from /etc/shells, a home that exists).
  const shells = existsSync("/etc/shells") ? parseShells(readFileSync("/etc/shells", "utf8")) : [];
  const account = parsePasswd(readFileSync("/etc/passwd", "utf8")).find(
    (e) => accountProblem(e, shells) === null && existsSync(e.home),
  );
  const root = process.getuid?.() === 0;

  it.skipIf(!root || !account || !existsSync("/usr/bin/setpriv"))(
    "appliance: the bundled agent (node-pty external) runs the owner's shell as the owner, without root's groups",
    async () => {
      if (!account) return;
      // The image's layout: agent.mjs beside node_modules/node-pty (package.json, lib, the addon).
      const bundle = path.join(dir, "agent.mjs");
      execFileSync(process.execPath, [
        path.join(ROOT, "scripts/bundle-agent.mjs"),
        path.join(ROOT, "test/unit/terminal/fixture-terminal-agent.ts"),
        bundle,
      ]);
      const pty = path.join(ROOT, "node_modules/node-pty");
      const shipped = path.join(dir, "node_modules/node-pty");
      mkdirSync(path.join(shipped, "build/Release"), { recursive: true });
      cpSync(path.join(pty, "package.json"), path.join(shipped, "package.json"));
      cpSync(path.join(pty, "lib"), path.join(shipped, "lib"), { recursive: true });
      cpSync(path.join(pty, "build/Release/pty.node"), path.join(shipped, "build/Release/pty.node"));

      const socketPath = path.join(dir, "agent.sock");
      // Under systemd root runs with supplementary groups (root's own); give the agent some here so a
      // shell that kept them (node-pty's own uid/gid options would) shows it.
      const child: ChildProcess = spawn(
        "/usr/bin/setpriv",
        ["--groups", "0,4", "--", process.execPath, bundle, "--socket", socketPath],
        {
          cwd: "/",
          env: { NODE_ENV: "test", PATH: "/usr/bin:/bin", FREEHOLD_TEST_OWNER: account.name },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let log = "";
      child.stdout?.on("data", (d) => {
        log += d;
      });
      child.stderr?.on("data", (d) => {
        log += d;
      });
      try {
        for (let i = 0; i < 100 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 100));
        const shell = await agentPtyHost(socketPath).open({ cols: 90, rows: 30 });
        expect(shell.user).toBe(account.name);
        const io = collect(shell);
        shell.write('echo "freehold-$((6*7)) uid=[$(id -u)] groups=[$(id -G)] home=[$HOME]"\r');
        const m = await io.until(/freehold-42 uid=\[(\d+)\] groups=\[([\d ]+)\] home=\[([^\]]*)\]/);
        expect(Number(m[1])).toBe(account.uid);
        const groups = (text: string) => [...new Set(text.trim().split(/\s+/).map(Number))].sort();
        expect(groups(m[2] ?? "")).toEqual(
          groups(execFileSync("id", ["-G", "--", account.name], { encoding: "utf8" })),
        );
        expect(groups(m[2] ?? "")).not.toContain(0);
        expect(m[3]).toBe(account.home);
        shell.resize({ cols: 123, rows: 45 });
        shell.write("stty size\r");
        await io.until(/45 123/);
        shell.kill();
        for (let i = 0; i < 100 && !log.includes('"outcome":"closed"'); i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(log).toContain('"outcome":"opened"');
        expect(log).toContain('"outcome":"closed"');
      } finally {
        child.kill("SIGTERM");
      }
    },
    60_000,
  );
});
