import { chmodSync, chownSync, linkSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { TerminalSize } from "../../../app/_schemas/terminal";
import { type AgentTerminalDeps, createAgentTerminal, readOwnerRecord } from "../../../app/agent/terminal";
import type { ShellLaunch } from "../../../app/lib/terminal/passwd";
import type { PtyExit, PtyProcess } from "../../../app/lib/terminal/pty";
import { type Harness, sleep, startHarness } from "./stand-ins";

/** A pty that records what it is told and emits what the test says. */
class FakePty implements PtyProcess {
  readonly writes: string[] = [];
  readonly resizes: TerminalSize[] = [];
  killed = 0;
  private dataListeners: ((d: string) => void)[] = [];
  private exitListeners: ((e: PtyExit) => void)[] = [];
  constructor(
    readonly pid: number,
    readonly user: string,
  ) {}
  write(data: string) {
    this.writes.push(data);
  }
  resize(size: TerminalSize) {
    this.resizes.push(size);
  }
  kill() {
    this.killed++;
    this.exit({ code: null, signal: 1 });
  }
  pause() {}
  resume() {}
  onData(l: (d: string) => void) {
    this.dataListeners.push(l);
  }
  onExit(l: (e: PtyExit) => void) {
    this.exitListeners.push(l);
  }
  emit(data: string) {
    for (const l of this.dataListeners) l(data);
  }
  exit(e: PtyExit) {
    for (const l of this.exitListeners.splice(0)) l(e);
  }
}

const PASSWD = `root:x:0:0:root:/root:/bin/bash
toor:x:0:0::/root:/bin/bash
www:x:33:33::/var/www:/bin/bash
alice:x:1000:1000::/home/alice:/bin/bash
carol:x:1003:1003::/home/carol:/usr/sbin/nologin
`;

function deps(owner: string | null, over: Partial<AgentTerminalDeps> = {}) {
  const spawned: { launch: ShellLaunch; size: TerminalSize; pty: FakePty }[] = [];
  const d: AgentTerminalDeps = {
    readOwner: async () =>
      owner === null
        ? { ok: false, missing: true, message: "no owner account is recorded yet" }
        : { ok: true, name: owner },
    readPasswd: async () => PASSWD,
    readShells: async () => "/bin/sh\n/bin/bash\n",
    spawn: async (launch, size) => {
      const pty = new FakePty(4242, launch.user);
      spawned.push({ launch, size, pty });
      return pty;
    },
    ...over,
  };
  return { d, spawned };
}

describe("agent terminal: whose shell", () => {
  it("refuses when no owner is recorded, and spawns nothing", async () => {
    const { d, spawned } = deps(null);
    expect(await createAgentTerminal(d)({ cols: 80, rows: 24 })).toMatchObject({
      ok: false,
      problem: "failed",
      message: "no owner account is recorded yet",
      hint: expect.stringMatching(/user\.ensure/),
    });
    expect(spawned).toEqual([]);
  });

  it("refuses uid 0 (root or an alias), system accounts, nologin and unknown users", async () => {
    for (const [owner, message] of [
      ["root", /uid 0/],
      ["toor", /uid 0/],
      ["www", /system account/],
      ["carol", /refuses logins/],
      ["mallory", /does not exist/],
    ] as const) {
      const { d, spawned } = deps(owner);
      const result = await createAgentTerminal(d)({ cols: 80, rows: 24 });
      expect(result, owner).toMatchObject({ ok: false, message: expect.stringMatching(message) });
      expect(spawned, owner).toEqual([]);
    }
  });

  it("refuses an owner record that is not root's own file", async () => {
    const { d, spawned } = deps("alice", {
      readOwner: async () => ({ ok: false, missing: false, message: "not written by freehold-agent" }),
    });
    expect(await createAgentTerminal(d)({ cols: 80, rows: 24 })).toMatchObject({
      ok: false,
      problem: "forbidden",
    });
    expect(spawned).toEqual([]);
  });

  it("runs the owner's login shell through setpriv, at the asked size", async () => {
    const { d, spawned } = deps("alice");
    const result = await createAgentTerminal(d)({ cols: 132, rows: 43 });
    expect(result.ok).toBe(true);
    expect(spawned).toHaveLength(1);
    expect(spawned[0]?.size).toEqual({ cols: 132, rows: 43 });
    expect(spawned[0]?.launch).toMatchObject({
      file: "/usr/bin/setpriv",
      args: ["--reuid", "1000", "--regid", "1000", "--init-groups", "--", "/bin/bash", "-l"],
      cwd: "/home/alice",
      user: "alice",
    });
    expect(Object.keys(spawned[0]?.launch.env ?? {}).sort()).toEqual([
      "HOME",
      "LANG",
      "LOGNAME",
      "PATH",
      "SHELL",
      "TERM",
      "USER",
    ]);
  });
});

describe("agent terminal: the owner record file", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-owner-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string, mode = 0o644) => {
    const p = path.join(dir, name);
    writeFileSync(p, content, { mode });
    chmodSync(p, mode);
    return p;
  };

  it("is missing on a box without an owner", async () => {
    expect(await readOwnerRecord(path.join(dir, "absent"))).toMatchObject({ ok: false, missing: true });
  });

  it.skipIf(process.getuid?.() !== 0)("is trusted only as root's regular, unshared file", async () => {
    expect(await readOwnerRecord(file("good", "alice\n"))).toEqual({ ok: true, name: "alice" });
    expect(await readOwnerRecord(file("writable", "alice\n", 0o666))).toMatchObject({
      ok: false,
      missing: false,
    });
    const theirs = file("theirs", "alice\n");
    chownSync(theirs, 65534, 65534);
    expect(await readOwnerRecord(theirs)).toMatchObject({ ok: false, missing: false });
    const link = path.join(dir, "link");
    symlinkSync(file("target", "alice\n"), link);
    expect(await readOwnerRecord(link)).toMatchObject({ ok: false, missing: false });
    const hard = path.join(dir, "hard");
    linkSync(file("hard-target", "alice\n"), hard);
    expect(await readOwnerRecord(hard)).toMatchObject({ ok: false, missing: false });
    expect(await readOwnerRecord(file("json", '{"volume":"data"}\n'))).toMatchObject({ ok: false });
    expect(await readOwnerRecord(file("two", "alice\nroot\n"))).toMatchObject({ ok: false });
  });
});

/** A raw client for the agent socket that collects parsed lines. */
async function connect(socketPath: string) {
  const socket = net.connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = "";
  let closed = false;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      lines.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  });
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => undefined);
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 100 && !check(); i++) await sleep(20);
    if (!check()) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(lines)}`);
  };
  return {
    socket,
    lines,
    closed: () => closed,
    until,
    send: (v: unknown) => socket.write(`${typeof v === "string" ? v : JSON.stringify(v)}\n`),
  };
}

describe("agent terminal: the socket protocol", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("opens the shell outside the op queue and streams frames both ways; closing ends it", async () => {
    const { d, spawned } = deps("alice");
    // An op that hangs holds the queue: the terminal must open anyway.
    h = await startHarness({ openTerminal: createAgentTerminal(d) });
    const busy = await connect(h.socketPath);
    busy.send({ id: "hang", op: "demo.echo", input: { label: "stuck", steps: 0, delayMs: 1000 } });
    const c = await connect(h.socketPath);
    c.send({ id: "t1", terminal: "open", cols: 100, rows: 30 });
    await c.until(() => c.lines.length >= 1, "opened");
    expect(c.lines[0]).toEqual({ id: "t1", ok: true, terminal: "opened", pid: 4242, user: "alice" });
    const pty = spawned[0]?.pty;
    if (!pty) throw new Error("no pty");
    c.send({ type: "data", data: "echo hi\r" });
    c.send({ type: "resize", cols: 120, rows: 40 });
    pty.emit("hi\r\n");
    await c.until(() => c.lines.length >= 2 && pty.resizes.length === 1, "a data frame");
    expect(c.lines[1]).toEqual({ type: "data", data: "hi\r\n" });
    expect(pty.writes).toEqual(["echo hi\r"]);
    expect(pty.resizes).toEqual([{ cols: 120, rows: 40 }]);
    c.socket.end();
    await c.until(() => pty.killed > 0, "the shell to be ended");
    const audit = h.logs.map((l) => JSON.parse(l)).filter((l) => l.event === "terminal");
    expect(audit.map((a) => a.outcome)).toEqual(["opened", "closed"]);
    expect(audit[0]).toMatchObject({ user: "alice", pid: 4242, uid: 0 });
    busy.socket.destroy();
  });

  it("sends the exit frame and closes when the shell exits", async () => {
    const { d, spawned } = deps("alice");
    h = await startHarness({ openTerminal: createAgentTerminal(d) });
    const c = await connect(h.socketPath);
    c.send({ id: "t2", terminal: "open", cols: 80, rows: 24 });
    await c.until(() => c.lines.length >= 1, "opened");
    spawned[0]?.pty.exit({ code: 0, signal: null });
    await c.until(() => c.closed(), "close");
    expect(c.lines.at(-1)).toEqual({ type: "exit", code: 0, signal: null });
  });

  it("refuses and closes: no owner, bad sizes, a terminal after another request, frames out of protocol", async () => {
    const none = deps(null);
    h = await startHarness({ openTerminal: createAgentTerminal(none.d) });
    const c1 = await connect(h.socketPath);
    c1.send({ id: "t3", terminal: "open", cols: 80, rows: 24 });
    await c1.until(() => c1.closed(), "close");
    expect(c1.lines).toEqual([
      expect.objectContaining({
        id: "t3",
        ok: false,
        problem: "failed",
        message: "no owner account is recorded yet",
      }),
    ]);

    for (const bad of [
      { id: "t4", terminal: "open", cols: 1, rows: 24 },
      { id: "t4", terminal: "open", cols: 80, rows: 201 },
      { id: "t4", terminal: "open", cols: 80, rows: 24, user: "root" },
      { id: "t4", terminal: "exec", cols: 80, rows: 24 },
    ]) {
      const c = await connect(h.socketPath);
      c.send(bad);
      await c.until(() => c.closed(), "close");
      expect(c.lines, JSON.stringify(bad)).toEqual([
        expect.objectContaining({ ok: false, problem: "invalid-input" }),
      ]);
    }

    const c2 = await connect(h.socketPath);
    c2.send({ id: "e1", op: "demo.echo", input: { label: "a", steps: 0 } });
    c2.send({ id: "t5", terminal: "open", cols: 80, rows: 24 });
    await c2.until(() => c2.closed(), "close");
    expect(c2.lines.find((l) => l.id === "t5")).toMatchObject({
      ok: false,
      message: expect.stringMatching(/first request/),
    });
    expect(none.spawned).toEqual([]);
    await h.close();

    const { d, spawned } = deps("alice");
    h = await startHarness({ openTerminal: createAgentTerminal(d) });
    const c3 = await connect(h.socketPath);
    c3.send({ id: "t6", terminal: "open", cols: 80, rows: 24 });
    await c3.until(() => c3.lines.length >= 1, "opened");
    c3.send({ type: "resize", cols: 80, rows: 0 });
    await c3.until(() => c3.closed(), "close");
    expect(spawned[0]?.pty.killed).toBeGreaterThan(0);
    expect(spawned[0]?.pty.resizes).toEqual([]);
  });

  it("answers unsupported without a terminal", async () => {
    h = await startHarness();
    const c = await connect(h.socketPath);
    c.send({ id: "t7", terminal: "open", cols: 80, rows: 24 });
    await c.until(() => c.closed(), "close");
    expect(c.lines).toEqual([expect.objectContaining({ id: "t7", ok: false, problem: "unsupported" })]);
  });
});
