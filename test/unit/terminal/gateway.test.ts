import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { TerminalServerMessage } from "../../../app/_schemas/terminal";
import { createAgentTerminal } from "../../../app/agent/terminal";
import { audit } from "../../../app/lib/audit";
import { hashPassword } from "../../../app/lib/auth/password";
import { createSession, deleteSession, readSession, sessionIdOf } from "../../../app/lib/auth/session";
import { agentPtyHost } from "../../../app/lib/terminal/agent-pty";
import {
  createTerminalGateway,
  type TerminalGateway,
  upgradeListener,
} from "../../../app/lib/terminal/gateway";
import type { TerminalHub } from "../../../app/lib/terminal/hub";
import { issueTerminalTicket } from "../../../app/lib/terminal/issue";
import { localPtyHost, type PtyHost, spawnPty } from "../../../app/lib/terminal/pty";
import { TICKET_TTL_MS, TicketStore } from "../../../app/lib/terminal/tickets";
import { startHarness } from "../agent/stand-ins";
import { tempDb } from "../wizard/temp-db";

/**
 * The WebSocket security matrix against a real server: node's http server with the same upgrade
 * listener as scripts/server.ts (Host/Origin guard, then the gateway), real sessions in a migrated
 * SQLite database, real tickets, a real login shell in node-pty. Every refused attempt must get an
 * HTTP error instead of a WebSocket, or a close code when it is already one.
 */

const PASSWORD = "maple river lantern 42";
const COOKIE = "__Host-freehold-session";
const t = tempDb();
let ownerId = 0;
let clockOffset = 0;
const now = () => Date.now() + clockOffset;

interface Running {
  url: string;
  origin: string;
  hub: TerminalHub;
  gateway: TerminalGateway;
  logs: string[];
  close(): Promise<void>;
}
const running: Running[] = [];

async function startServer(
  options: { idleMs?: number; reattachMs?: number; ptyHost?: PtyHost } = {},
): Promise<Running> {
  const hub: TerminalHub = {
    tickets: new TicketStore(now),
    terminals: new Map(),
    services: {
      readSession: (token) => readSession(t.prisma, token),
      audit: (event) => audit(t.prisma, event),
    },
  };
  const logs: string[] = [];
  const gateway = createTerminalGateway({
    ptyHost: options.ptyHost ?? localPtyHost(),
    mode: "preview",
    tls: false,
    idleMs: options.idleMs ?? 60_000,
    reattachMs: options.reattachMs ?? 30_000,
    hub,
    log: (l) => logs.push(l),
  });
  const server = http.createServer((_req, res) => res.end());
  server.on(
    "upgrade",
    upgradeListener({
      tls: false,
      hostPolicy: () => ({ hostnames: ["homebox"], configured: [] }),
      terminal: gateway,
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const r: Running = {
    url: `ws://127.0.0.1:${port}/api/terminal/ws`,
    origin: `http://127.0.0.1:${port}`,
    hub,
    gateway,
    logs,
    async close() {
      gateway.close();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
  running.push(r);
  return r;
}

type Attempt = { status: number; body: string } | { ws: WebSocket; client: Client };

/** Upgrades; resolves with the HTTP refusal, or an open socket and its message log. */
function attempt(url: string, headers: Record<string, string>): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const client = new Client(ws);
    ws.once("open", () => resolve({ ws, client }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", reject);
  });
}

class Client {
  readonly messages: TerminalServerMessage[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.messages.push(JSON.parse(String(data))));
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: String(reason) };
    });
    ws.on("error", () => undefined);
  }
  text(): string {
    return this.messages.map((m) => (m.type === "data" ? m.data : "")).join("");
  }
  send(value: unknown) {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }
  async until(check: () => boolean, what: string, ms = 15_000) {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}: ${JSON.stringify(this.text().slice(-1500))} ${JSON.stringify(this.closed)}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  untilText(pattern: RegExp) {
    return this.until(() => pattern.test(this.text()), String(pattern));
  }
  untilClosed() {
    return this.until(() => this.closed !== null, "close").then(
      () => this.closed as { code: number; reason: string },
    );
  }
}

async function newSession() {
  const token = await createSession(t.prisma, ownerId, { remoteAddr: "127.0.0.1" });
  return { token, sessionId: sessionIdOf(token), cookie: `${COOKIE}=${token}` };
}

function ticketFor(r: Running, sessionId: string, terminalId: string | null = null) {
  return r.hub.tickets.issue({ sessionId, ownerId, username: "alice", terminalId }).ticket;
}

async function open(
  r: Running,
  s: { cookie: string; sessionId: string },
  ticket = ticketFor(r, s.sessionId),
) {
  const a = await attempt(`${r.url}?ticket=${ticket}&cols=80&rows=24`, {
    origin: r.origin,
    cookie: s.cookie,
  });
  if (!("ws" in a)) throw new Error(`refused: ${a.status} ${a.body}`);
  await a.client.until(() => a.client.messages.some((m) => m.type === "hello"), "hello");
  return a.client;
}

const auditRows = async (action: string) =>
  t.prisma.auditEvent.findMany({ where: { action }, orderBy: { id: "asc" } });

beforeAll(async () => {
  const owner = await t.prisma.owner.create({
    data: { username: "alice", passwordHash: await hashPassword(PASSWORD) },
  });
  ownerId = owner.id;
});
afterEach(async () => {
  clockOffset = 0;
  for (const r of running.splice(0)) await r.close();
});
afterAll(async () => {
  await t.close();
});

describe("terminal WebSocket: the way in", () => {
  it("opens with the session and a fresh ticket: a login shell that runs commands and follows resizes", async () => {
    const r = await startServer();
    const s = await newSession();
    const c = await open(r, s);
    expect(c.messages[0]).toMatchObject({ type: "hello", reattached: false });
    c.send({ type: "data", data: "echo freehold-$((6*7))\r" });
    await c.untilText(/freehold-42\r\n/);
    c.send({ type: "resize", cols: 132, rows: 43 });
    c.send({ type: "data", data: "stty size\r" });
    await c.untilText(/43 132/);
    c.send({ type: "close" });
    expect(await c.untilClosed()).toMatchObject({ code: 1000 });
    expect(r.gateway.size).toBe(0);
    expect((await auditRows("terminal.opened")).at(-1)).toMatchObject({
      actor: "owner",
      remoteAddr: "127.0.0.1",
    });
    const closed = await auditRows("terminal.closed");
    expect(JSON.parse(closed.at(-1)?.detail ?? "{}")).toMatchObject({ reason: "closed" });
  });

  it("keeps what the page types while the shell is still starting (the agent's start takes a while)", async () => {
    const local = localPtyHost();
    const slow: PtyHost = {
      ...local,
      open: async (size) => {
        await new Promise((done) => setTimeout(done, 300));
        return local.open(size);
      },
    };
    const r = await startServer({ ptyHost: slow });
    const s = await newSession();
    const a = await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}&cols=80&rows=24`, {
      origin: r.origin,
      cookie: s.cookie,
    });
    if (!("ws" in a)) throw new Error(`refused: ${a.status} ${a.body}`);
    // Typed at once, before the hello: nothing may be lost.
    a.client.send({ type: "data", data: "echo early-$((6*7))\r" });
    await a.client.untilText(/early-42\r\n/);
    a.client.send({ type: "close" });
    await a.client.untilClosed();
  });

  it("refuses without a session cookie, with a signed-out session, and with another session's ticket", async () => {
    const r = await startServer();
    const s = await newSession();
    const other = await newSession();
    const noCookie = await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}`, { origin: r.origin });
    expect(noCookie).toMatchObject({ status: 401 });

    const stolen = ticketFor(r, other.sessionId);
    expect(await attempt(`${r.url}?ticket=${stolen}`, { origin: r.origin, cookie: s.cookie })).toMatchObject({
      status: 403,
      body: expect.stringMatching(/another session/),
    });
    // Tried once from the wrong session, the ticket is dead for its own session too.
    expect(
      await attempt(`${r.url}?ticket=${stolen}`, { origin: r.origin, cookie: other.cookie }),
    ).toMatchObject({
      status: 403,
    });

    const ticket = ticketFor(r, s.sessionId);
    await deleteSession(t.prisma, s.token);
    expect(await attempt(`${r.url}?ticket=${ticket}`, { origin: r.origin, cookie: s.cookie })).toMatchObject({
      status: 401,
    });
    const forged = `${COOKIE}=${"A".repeat(43)}`;
    expect(
      await attempt(`${r.url}?ticket=${ticketFor(r, sessionIdOf("A".repeat(43)))}`, {
        origin: r.origin,
        cookie: forged,
      }),
    ).toMatchObject({ status: 401 });
    expect(r.gateway.size).toBe(0);
    expect((await auditRows("terminal.refused")).length).toBeGreaterThanOrEqual(4);
  });

  it("refuses a foreign or missing Origin and a foreign Host before looking at anything else", async () => {
    const r = await startServer();
    const s = await newSession();
    for (const origin of ["http://evil.example", "null", "https://127.0.0.1", `${r.origin}.evil.example`]) {
      const a = await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}`, { origin, cookie: s.cookie });
      expect(a, origin).toMatchObject({ status: 403 });
    }
    expect(await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}`, { cookie: s.cookie })).toMatchObject(
      {
        status: 403,
      },
    );
    const port = new URL(r.url).port;
    const rebinding = await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}`, {
      origin: `http://evil.example:${port}`,
      host: `evil.example:${port}`,
      cookie: s.cookie,
    });
    expect(rebinding).toMatchObject({ status: 421 });
    expect(r.gateway.size).toBe(0);
  });

  it("refuses a missing, malformed, reused or expired ticket, and a size out of bounds", async () => {
    const r = await startServer();
    const s = await newSession();
    const headers = { origin: r.origin, cookie: s.cookie };
    expect(await attempt(r.url, headers)).toMatchObject({ status: 400 });
    expect(await attempt(`${r.url}?ticket=not-a-ticket`, headers)).toMatchObject({ status: 400 });
    expect(await attempt(`${r.url}?ticket=${"A".repeat(43)}`, headers)).toMatchObject({ status: 403 });

    const once = ticketFor(r, s.sessionId);
    const first = await open(r, s, once);
    expect(await attempt(`${r.url}?ticket=${once}`, headers)).toMatchObject({
      status: 403,
      body: expect.stringMatching(/used already/),
    });
    first.send({ type: "close" });
    await first.untilClosed();

    const late = ticketFor(r, s.sessionId);
    clockOffset = TICKET_TTL_MS;
    expect(await attempt(`${r.url}?ticket=${late}`, headers)).toMatchObject({
      status: 403,
      body: expect.stringMatching(/expired/),
    });
    clockOffset = 0;

    for (const size of [
      "cols=1&rows=24",
      "cols=501&rows=24",
      "cols=80&rows=0",
      "cols=80&rows=201",
      "cols=x&rows=24",
    ]) {
      expect(
        await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}&${size}`, headers),
        size,
      ).toMatchObject({
        status: 400,
      });
    }
    expect(r.gateway.size).toBe(0);
  });
});

describe("terminal WebSocket: once open", () => {
  it("closes with 1009 on a message over 64 KiB and ends the shell", async () => {
    const r = await startServer();
    const s = await newSession();
    const c = await open(r, s);
    c.send({ type: "data", data: "x".repeat(64 * 1024) });
    expect((await c.untilClosed()).code).toBe(1009);
    await c.until(() => r.gateway.size === 0, "the shell to end");
    const closed = await auditRows("terminal.closed");
    expect(JSON.parse(closed.at(-1)?.detail ?? "{}")).toMatchObject({ reason: "protocol" });
  });

  it("closes with 1008 on a resize out of bounds or any message out of protocol, and ends the shell", async () => {
    const r = await startServer();
    const s = await newSession();
    for (const bad of [
      { type: "resize", cols: 1, rows: 24 },
      { type: "resize", cols: 501, rows: 24 },
      { type: "resize", cols: 80, rows: 0 },
      { type: "resize", cols: 80, rows: 201 },
      { type: "resize", cols: 80.5, rows: 24 },
      { type: "resize", cols: "80", rows: 24 },
      { type: "resize", cols: 80, rows: 24, user: "root" },
      { type: "exec", argv: ["/bin/sh"] },
      "not json",
    ]) {
      const c = await open(r, s);
      c.send(bad);
      expect((await c.untilClosed()).code, JSON.stringify(bad)).toBe(1008);
      await c.until(() => r.gateway.size === 0, "the shell to end");
    }
    const c = await open(r, s);
    c.ws.send(Buffer.from("echo binary\r"));
    expect((await c.untilClosed()).code).toBe(1008);
  });

  it("ends the shell after the idle time without input (close 4001)", async () => {
    const r = await startServer({ idleMs: 1500 });
    const s = await newSession();
    const c = await open(r, s);
    c.send({ type: "resize", cols: 100, rows: 30 }); // a resize is not input: it does not keep it alive
    const closed = await c.untilClosed();
    expect(closed.code).toBe(4001);
    expect(c.messages.at(-1)).toMatchObject({ type: "exit", reason: "idle" });
    expect(r.gateway.size).toBe(0);
  });

  it("survives a reload: detached for the window, reattached by the same session with the terminal id", async () => {
    const r = await startServer({ reattachMs: 4000 });
    const s = await newSession();
    const c = await open(r, s);
    const hello = c.messages[0];
    if (hello?.type !== "hello") throw new Error("no hello");
    c.send({ type: "data", data: "export MARK=freehold-$((6*7))\r" });
    await c.untilText(/MARK=/);
    c.ws.close(1001); // the page went away without saying goodbye
    await c.untilClosed();
    await c.until(() => r.hub.terminals.get(hello.id)?.detached === true, "detached");

    // Another session may not have it, and a password-less ticket names only a detached terminal.
    const other = await newSession();
    const session = (x: { sessionId: string }) => ({
      sessionId: x.sessionId,
      owner: { id: ownerId, username: "alice" },
    });
    expect(
      await issueTerminalTicket(
        t.prisma,
        r.hub,
        session(other),
        { reattach: hello.id },
        { remoteAddr: "127.0.0.1" },
      ),
    ).toMatchObject({ ok: false, status: 410 });
    const stolen = ticketFor(r, other.sessionId, hello.id);
    expect(await attempt(`${r.url}?ticket=${stolen}`, { origin: r.origin, cookie: s.cookie })).toMatchObject({
      status: 403,
    });

    const issued = await issueTerminalTicket(
      t.prisma,
      r.hub,
      session(s),
      { reattach: hello.id },
      { remoteAddr: "127.0.0.1" },
    );
    if (!issued.ok) throw new Error(issued.message);
    const again = await open(r, s, issued.ticket);
    expect(again.messages[0]).toMatchObject({ type: "hello", id: hello.id, reattached: true });
    again.send({ type: "data", data: 'echo "$MARK"\r' });
    await again.untilText(/[\r\n]freehold-42\r\n/);
    expect((await auditRows("terminal.reattached")).length).toBe(1);

    // Gone for longer than the window: the shell ends, and the id is good for nothing.
    again.ws.close(1001);
    await again.untilClosed();
    await again.until(() => r.gateway.size === 0, "the detached shell to end", 10_000);
    expect(
      await issueTerminalTicket(
        t.prisma,
        r.hub,
        session(s),
        { reattach: hello.id },
        { remoteAddr: "127.0.0.1" },
      ),
    ).toMatchObject({ ok: false, status: 410 });
    const closed = await auditRows("terminal.closed");
    expect(JSON.parse(closed.at(-1)?.detail ?? "{}")).toMatchObject({ reason: "detached-too-long" });
  });
});

describe("terminal WebSocket on the appliance: the shell comes from freehold-agent", () => {
  const PASSWD = "alice:x:1000:1000::/tmp:/bin/sh\n";

  it("relays the agent's refusal to the page, and audits it", async () => {
    const agent = await startHarness({
      openTerminal: createAgentTerminal({
        readOwner: async () => ({ ok: false, missing: true, message: "no owner account is recorded yet" }),
        readPasswd: async () => PASSWD,
        readShells: async () => "/bin/sh\n",
        spawn: () => Promise.reject(new Error("must not spawn")),
      }),
    });
    try {
      const r = await startServer({ ptyHost: agentPtyHost(agent.socketPath) });
      const s = await newSession();
      const a = await attempt(`${r.url}?ticket=${ticketFor(r, s.sessionId)}`, {
        origin: r.origin,
        cookie: s.cookie,
      });
      if (!("ws" in a)) throw new Error(`refused: ${a.status}`);
      expect((await a.client.untilClosed()).code).toBe(1011);
      expect(a.client.messages).toEqual([
        { type: "exit", code: null, reason: "refused", message: "no owner account is recorded yet" },
      ]);
      const refused = await auditRows("terminal.refused");
      expect(JSON.parse(refused.at(-1)?.detail ?? "{}")).toMatchObject({
        reason: "no owner account is recorded yet",
      });
    } finally {
      await agent.close();
    }
  });

  it("streams the owner's shell from the agent: output, input and resizes", async () => {
    const launches: string[][] = [];
    const agent = await startHarness({
      openTerminal: createAgentTerminal({
        readOwner: async () => ({ ok: true, name: "alice" }),
        readPasswd: async () => PASSWD,
        readShells: async () => "/bin/sh\n",
        // Unprivileged here: run the shell setpriv would have run, without changing users.
        spawn: (launch, size) => {
          launches.push([launch.file, ...launch.args]);
          return spawnPty({ ...launch, file: "/bin/sh", args: ["-l"] }, size);
        },
      }),
    });
    try {
      const r = await startServer({ ptyHost: agentPtyHost(agent.socketPath) });
      const s = await newSession();
      const c = await open(r, s);
      expect(c.messages[0]).toMatchObject({ type: "hello", user: "alice" });
      expect(launches).toEqual([
        ["/usr/bin/setpriv", "--reuid", "1000", "--regid", "1000", "--init-groups", "--", "/bin/sh", "-l"],
      ]);
      c.send({ type: "data", data: "echo freehold-$((6*7)); echo $HOME $USER\r" });
      await c.untilText(/freehold-42\r\n\/tmp alice\r\n/);
      c.send({ type: "resize", cols: 140, rows: 50 });
      c.send({ type: "data", data: "stty size\r" });
      await c.untilText(/50 140/);
      c.send({ type: "data", data: "exit 7\r" });
      expect((await c.untilClosed()).code).toBe(1000);
      expect(c.messages.at(-1)).toEqual({ type: "exit", code: 7, reason: "exit" });
      await c.until(() => agent.logs.some((l) => l.includes('"outcome":"exited"')), "the agent's audit line");
    } finally {
      await agent.close();
    }
  });
});

describe("terminal tickets from the route's logic", () => {
  it("need the password, are rate limited like sign-in, and are audited", async () => {
    const r = await startServer();
    const s = await newSession();
    const session = { sessionId: s.sessionId, owner: { id: ownerId, username: "alice" } };
    const ctx = { remoteAddr: "192.0.2.7" };
    const good = await issueTerminalTicket(t.prisma, r.hub, session, { password: PASSWORD }, ctx);
    expect(good.ok).toBe(true);
    if (good.ok) {
      expect(r.hub.tickets.redeem(good.ticket, s.sessionId)).toMatchObject({
        ok: true,
        grant: { terminalId: null },
      });
    }
    for (let i = 0; i < 6; i++) {
      const bad = await issueTerminalTicket(t.prisma, r.hub, session, { password: "wrong password" }, ctx);
      expect(bad).toMatchObject({ ok: false, status: 422 });
    }
    // Blocked now, even with the right password.
    expect(await issueTerminalTicket(t.prisma, r.hub, session, { password: PASSWORD }, ctx)).toMatchObject({
      ok: false,
      status: 429,
    });
    expect((await auditRows("terminal.ticket.failed")).length).toBe(6);
    expect((await auditRows("terminal.ticket")).length).toBe(1);
  });
});
