import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentStartError, parseArgs, startAgent, systemdSocket, userUid } from "../../../app/agent/start";
import { Client, fakeHost, standInOps } from "./stand-ins";

const ROOT = path.resolve(__dirname, "../../..");
const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const deps = () => {
  const record = { runs: [], timeline: [] };
  return { ops: standInOps(record), host: (p: (m: string) => void) => fakeHost(p, record) };
};

describe("agent start-up", () => {
  it("parses its few arguments and refuses others", () => {
    expect(parseArgs([])).toEqual({ allowUids: [] });
    expect(parseArgs(["--socket", "/tmp/a.sock", "--allow-uid", "1000"])).toEqual({
      socket: "/tmp/a.sock",
      allowUids: [1000],
    });
    expect(() => parseArgs(["--allow-uid", "root"])).toThrow(AgentStartError);
    expect(() => parseArgs(["--shell"])).toThrow(/unknown argument/);
  });

  it("takes fd 3 only when systemd passed one socket to this very process", () => {
    expect(systemdSocket({ LISTEN_PID: "42", LISTEN_FDS: "1" }, 42)).toEqual({ fd: 3 });
    expect(systemdSocket({ LISTEN_PID: "41", LISTEN_FDS: "1" }, 42)).toBeNull();
    expect(systemdSocket({}, 42)).toBeNull();
    expect(() => systemdSocket({ LISTEN_PID: "42", LISTEN_FDS: "2" }, 42)).toThrow(/exactly one/);
  });

  it("looks users up with getent", async () => {
    expect(await userUid("root")).toBe(0);
    expect(await userUid("no-such-user-here")).toBeNull();
  });

  it("without a socket, says how to start it", async () => {
    await expect(
      startAgent(deps(), { argv: [], env: {}, log: () => undefined, manageProcess: false }),
    ).rejects.toThrow(/freehold-agent\.socket, or pass --socket/);
  });

  it("listens on --socket (replacing a stale socket file) and logs what it serves", async () => {
    const socketPath = path.join(dir, "agent.sock");
    // a stale socket left by a previous run
    const stale = net.createServer().listen(socketPath);
    await new Promise((r) => stale.once("listening", r));
    stale.close();
    writeFileSync(path.join(dir, "unrelated"), "");
    const logs: string[] = [];
    const env: Record<string, string | undefined> = { LISTEN_PID: "1", LISTEN_FDS: "1" };
    const server = await startAgent(deps(), {
      argv: ["--socket", socketPath, "--allow-uid", "4242"],
      env,
      log: (l) => logs.push(l),
      manageProcess: false,
    });
    try {
      expect(env).toEqual({}); // the tools the ops run do not inherit systemd's variables
      const listening = logs.map((l) => JSON.parse(l)).find((l) => l.event === "listening");
      expect(listening).toMatchObject({ on: socketPath, ops: ["demo.echo", "demo.unlock"] });
      expect(listening.allowedUids).toEqual(expect.arrayContaining([0, 4242]));
      const c = await Client.connect(socketPath);
      c.send({ id: "s", op: "demo.echo", input: { label: "s", steps: 1 } });
      expect((await c.final("s")).at(-1)).toMatchObject({ ok: true });
      c.end();
    } finally {
      await server.stop();
    }
  });

  const activate = ["/usr/bin/systemd-socket-activate", "/bin/systemd-socket-activate"].find((p) =>
    existsSync(p),
  );
  it.skipIf(!activate)(
    "bundled like agent.mjs, serves the socket systemd passes as fd 3, and stops cleanly on SIGTERM",
    async () => {
      // the same esbuild bundling as /opt/freehold/agent.mjs, with the stand-in registry as entry
      const bundle = path.join(dir, "agent.mjs");
      execFileSync(process.execPath, [
        path.join(ROOT, "scripts/bundle-agent.mjs"),
        path.join(ROOT, "test/unit/agent/fixture-agent.ts"),
        bundle,
      ]);
      const socketPath = path.join(dir, "activated.sock");
      const child = spawn(activate as string, ["--listen", socketPath, "--", process.execPath, bundle], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.stderr.on("data", (d) => {
        out += d;
      });
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      try {
        for (let i = 0; i < 100 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 100));
        const c = await Client.connect(socketPath);
        c.send({ id: "fd3", op: "demo.echo", input: { label: "fd", steps: 1 } });
        expect(await c.final("fd3", 20_000)).toEqual([
          { id: "fd3", event: "progress", message: "fd step 1/1" },
          { id: "fd3", ok: true, changed: true, verified: true, detail: { label: "fd" } },
        ]);
        c.end();
        expect(out).toContain('"on":"fd 3 (systemd)"');
        // the audit line follows the answer on the service's stdout (the journal)
        for (let i = 0; i < 50 && !out.includes('"outcome":"ok"'); i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(out).toContain('"outcome":"ok"');
      } finally {
        child.kill("SIGTERM");
      }
      expect(await exited).toBe(0);
    },
    60_000,
  );
});
