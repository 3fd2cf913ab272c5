import { randomBytes } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import {
  TERMINAL_CLOSE,
  TERMINAL_MAX_MESSAGE,
  type TerminalClientMessage,
  TerminalClientMessageSchema,
  type TerminalEndReason,
  type TerminalServerMessage,
  TerminalSizeSchema,
  TerminalTicketSchema,
} from "../../_schemas/terminal";
import { sessionCookieSpec } from "../auth/cookie";
import { sessionIdOf } from "../auth/session";
import { checkRequest, type HostPolicy, isLoopbackHost } from "../http/guard";
import { type TerminalAuditEvent, type TerminalEntry, type TerminalHub, terminalHub } from "./hub";
import type { PtyHost, PtyProcess } from "./pty";

/**
 * The web terminal's WebSocket end, attached to scripts/server.ts's `upgrade` listener after the
 * Host/Origin guard passed. An upgrade on TERMINAL_WS_PATH is accepted only with
 *   - the session cookie of a live session, and
 *   - a ticket (?ticket=) issued to that same session in the last minute, used once.
 * Everything else gets an HTTP error instead of a WebSocket, and is audited (terminal.refused).
 *
 * A terminal is a PtyProcess (pty.ts: node-pty here in preview, freehold-agent on the appliance)
 * plus at most one WebSocket. Input from the browser is zod-checked (resize bounds included; a bad
 * message closes with 1008), a message over TERMINAL_MAX_MESSAGE closes with 1009 (ws maxPayload),
 * and the shell ends after `idleMs` without input. When the page goes away without saying "close"
 * (a reload), the shell stays up detached for `reattachMs`, its output kept (up to BACKLOG bytes)
 * for whoever reattaches: the same session, with a new ticket that names the terminal.
 */

export const TERMINAL_WS_PATH = "/api/terminal/ws";
const BACKLOG = 64 * 1024;
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 128 * 1024;
const MAX_TERMINALS = 8;
/** Refusals written to the audit log per minute; the rest only reach the journal. */
const REFUSALS_AUDITED_PER_MINUTE = 30;

export interface GatewayOptions {
  ptyHost: PtyHost;
  mode: "preview" | "appliance";
  tls: boolean;
  idleMs: number;
  reattachMs: number;
  maxPayload?: number;
  hub?: TerminalHub;
  log?: (line: string) => void;
}

export interface TerminalGateway {
  /** Whether an upgrade request is for the terminal (others are left to Next). */
  handles(req: http.IncomingMessage): boolean;
  /** Takes over the socket of an upgrade request that passed the Host/Origin guard. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** Ends every terminal (server shutdown). */
  close(): void;
  readonly size: number;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  421: "Misdirected Request",
  401: "Unauthorized",
  403: "Forbidden",
  410: "Gone",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/** Answers an upgrade with a plain HTTP error and closes the socket once that is written. */
function httpError(socket: Duplex, status: number, body: string): void {
  socket.on("error", () => undefined);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Refused"}\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  const timer = setTimeout(() => socket.destroy(), 2000);
  timer.unref();
  socket.once("finish", () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Messages that arrived before the shell was up, with ws's isBinary flag. */
type EarlyMessages = [RawData, boolean][];
const EARLY_MAX = 32;

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}

interface Terminal extends TerminalEntry {
  ownerId: number;
  username: string;
  pty: PtyProcess;
  ws: WebSocket | null;
  backlog: string[];
  backlogSize: number;
  idleTimer: NodeJS.Timeout | null;
  detachTimer: NodeJS.Timeout | null;
  paused: boolean;
  ended: boolean;
  openedAt: number;
  remoteAddr: string | null;
}

export function createTerminalGateway(options: GatewayOptions): TerminalGateway {
  const hub = options.hub ?? terminalHub();
  const log = options.log ?? ((line: string) => console.log(line));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload ?? TERMINAL_MAX_MESSAGE,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const live = new Map<string, Terminal>();
  let refusals = { minute: 0, count: 0 };

  const audit = (event: TerminalAuditEvent) => {
    const services = hub.services;
    if (!services) return;
    services.audit(event).catch((error: unknown) => {
      log(`freehold-web: terminal audit failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  const refuse = (
    req: http.IncomingMessage,
    socket: Duplex,
    status: number,
    reason: string,
    who: { actor: "owner" | "anonymous"; username?: string } = { actor: "anonymous" },
  ) => {
    const remoteAddr = req.socket.remoteAddress ?? null;
    log(`freehold-web: refused terminal from ${remoteAddr}: ${reason}`);
    const minute = Math.floor(Date.now() / 60_000);
    if (refusals.minute !== minute) refusals = { minute, count: 0 };
    if (++refusals.count <= REFUSALS_AUDITED_PER_MINUTE) {
      audit({
        actor: who.actor,
        action: "terminal.refused",
        target: who.username ?? null,
        remoteAddr,
        detail: { reason },
      });
    }
    httpError(socket, status, `${reason}\n`);
  };

  const send = (t: Terminal, message: TerminalServerMessage) => {
    const ws = t.ws;
    if (!ws || ws.readyState !== ws.OPEN) return false;
    ws.send(JSON.stringify(message), () => {
      if (t.paused && (t.ws?.bufferedAmount ?? 0) < LOW_WATER) {
        t.paused = false;
        t.pty.resume();
      }
    });
    if (!t.paused && ws.bufferedAmount > HIGH_WATER) {
      t.paused = true;
      t.pty.pause();
    }
    return true;
  };

  const resetIdle = (t: Terminal) => {
    if (t.idleTimer) clearTimeout(t.idleTimer);
    t.idleTimer = setTimeout(() => end(t, "idle"), options.idleMs);
    t.idleTimer.unref();
  };

  const end = (t: Terminal, reason: TerminalEndReason, code: number | null = null) => {
    if (t.ended) return;
    t.ended = true;
    if (t.idleTimer) clearTimeout(t.idleTimer);
    if (t.detachTimer) clearTimeout(t.detachTimer);
    if (reason !== "exit") t.pty.kill();
    if (t.paused) t.pty.resume();
    const ws = t.ws;
    t.ws = null;
    if (ws && ws.readyState === ws.OPEN) {
      ws.send(JSON.stringify({ type: "exit", code, reason } satisfies TerminalServerMessage));
      const close =
        reason === "idle"
          ? TERMINAL_CLOSE.idle
          : reason === "protocol"
            ? 1008
            : reason === "shutdown"
              ? 1001
              : 1000;
      ws.close(close, reason);
    }
    live.delete(t.id);
    hub.terminals.delete(t.id);
    audit({
      actor: "owner",
      action: "terminal.closed",
      target: t.username,
      remoteAddr: t.remoteAddr,
      detail: { terminal: t.id, reason, code, seconds: Math.round((Date.now() - t.openedAt) / 1000) },
    });
  };

  const detach = (t: Terminal) => {
    if (t.ended) return;
    t.ws = null;
    if (t.detachTimer) clearTimeout(t.detachTimer);
    t.detachTimer = setTimeout(() => end(t, "detached-too-long"), options.reattachMs);
    t.detachTimer.unref();
  };

  const onMessage = (t: Terminal, ws: WebSocket, data: RawData, isBinary: boolean) => {
    if (t.ws !== ws || t.ended) return;
    let message: TerminalClientMessage | null = null;
    if (!isBinary) {
      try {
        const parsed = TerminalClientMessageSchema.safeParse(JSON.parse(text(data)));
        if (parsed.success) message = parsed.data;
      } catch {
        message = null;
      }
    }
    if (!message) {
      log(`freehold-web: terminal ${t.id}: a message out of protocol; closing it`);
      return end(t, "protocol");
    }
    if (message.type === "data") {
      resetIdle(t);
      t.pty.write(message.data);
    } else if (message.type === "resize") {
      t.pty.resize({ cols: message.cols, rows: message.rows });
    } else end(t, "closed");
  };

  const attach = (t: Terminal, ws: WebSocket, reattached: boolean, early: EarlyMessages = []) => {
    if (t.detachTimer) clearTimeout(t.detachTimer);
    t.detachTimer = null;
    t.ws = ws;
    // ws reports only protocol errors here (a message over maxPayload, bad UTF-8, a bad frame); it
    // has sent the close frame (1009 for the size) and will not read the peer's answer, so the close
    // event would say 1006, like a dropped connection. It is no reload: end the shell.
    ws.on("error", () => {
      if (t.ws === ws) end(t, "protocol");
    });
    ws.on("message", (data, isBinary) => onMessage(t, ws, data, isBinary));
    // What the page typed while the shell was starting, in order.
    for (const [data, isBinary] of early) onMessage(t, ws, data, isBinary);
    ws.on("close", (code) => {
      if (t.ws !== ws) return;
      // 1000: the page said goodbye (it sends "close" first); 1008/1009: out of protocol or too
      // large (ws closes with 1009 itself). Anything else (1001 on reload, 1006) may come back.
      if (code === 1008 || code === 1009) end(t, "protocol");
      else if (code === 1000) end(t, "closed");
      else detach(t);
    });
    send(t, { type: "hello", id: t.id, reattached, user: t.username });
    const backlog = t.backlog.join("");
    t.backlog = [];
    t.backlogSize = 0;
    if (backlog) send(t, { type: "data", data: backlog });
  };

  const open = async (
    ws: WebSocket,
    grant: { sessionId: string; ownerId: number; username: string },
    size: { cols: number; rows: number },
    remoteAddr: string | null,
  ) => {
    // The page may type before the shell is up (the agent starts it on the appliance): keep those
    // messages, a bounded few, and hand them over once attached.
    const early: EarlyMessages = [];
    const keepEarly = (data: RawData, isBinary: boolean) => {
      if (early.length < EARLY_MAX) early.push([data, isBinary]);
      else ws.close(1008, "too much input before the shell started");
    };
    ws.on("message", keepEarly);
    let pty: PtyProcess;
    try {
      pty = await options.ptyHost.open(size);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`freehold-web: the terminal could not start: ${message}`);
      audit({
        actor: "owner",
        action: "terminal.refused",
        target: grant.username,
        remoteAddr,
        detail: { reason: message.slice(0, 500) },
      });
      if (ws.readyState === ws.OPEN) {
        ws.send(
          JSON.stringify({
            type: "exit",
            code: null,
            reason: "refused",
            message: message.slice(0, 500),
          } satisfies TerminalServerMessage),
        );
        ws.close(1011, message.slice(0, 120));
      }
      return;
    }
    const t: Terminal = {
      id: randomBytes(16).toString("base64url"),
      sessionId: grant.sessionId,
      ownerId: grant.ownerId,
      username: pty.user,
      pty,
      ws: null,
      backlog: [],
      backlogSize: 0,
      idleTimer: null,
      detachTimer: null,
      paused: false,
      ended: false,
      openedAt: Date.now(),
      remoteAddr,
      get detached() {
        return this.ws === null;
      },
      end: () => end(t, "closed"),
    };
    live.set(t.id, t);
    hub.terminals.set(t.id, t);
    pty.onData((data) => {
      if (t.ended) return;
      if (send(t, { type: "data", data })) return;
      t.backlog.push(data);
      t.backlogSize += data.length;
      while (t.backlogSize > BACKLOG && t.backlog.length > 1) t.backlogSize -= t.backlog.shift()?.length ?? 0;
    });
    pty.onExit((e) => end(t, "exit", e.code));
    audit({
      actor: "owner",
      action: "terminal.opened",
      target: t.username,
      remoteAddr,
      detail: { terminal: t.id, pid: pty.pid, cols: size.cols, rows: size.rows },
    });
    resetIdle(t);
    ws.off("message", keepEarly);
    if (ws.readyState !== ws.OPEN) return detach(t);
    attach(t, ws, false, early);
  };

  return {
    handles(req) {
      const url = new URL(req.url ?? "/", "http://localhost");
      return url.pathname === TERMINAL_WS_PATH;
    },

    async upgrade(req, socket, head) {
      socket.on("error", () => undefined);
      const url = new URL(req.url ?? "/", "http://localhost");
      const ticket = TerminalTicketSchema.safeParse(url.searchParams.get("ticket"));
      if (!ticket.success) return refuse(req, socket, 400, "The terminal ticket is missing or malformed.");
      const size = TerminalSizeSchema.safeParse({
        cols: Number(url.searchParams.get("cols") ?? 80),
        rows: Number(url.searchParams.get("rows") ?? 24),
      });
      if (!size.success) return refuse(req, socket, 400, "The terminal size is out of bounds.");
      const host = Array.isArray(req.headers.host) ? req.headers.host[0] : req.headers.host;
      const cookie = sessionCookieSpec({
        mode: options.mode,
        tls: options.tls,
        loopback: isLoopbackHost(host),
      });
      const token = cookieValue(req.headers.cookie, cookie.name);
      if (!token || token.length > 100) return refuse(req, socket, 401, "Sign in first.");
      const verdict = hub.tickets.redeem(ticket.data, sessionIdOf(token));
      if (!verdict.ok) {
        const why = {
          unknown: "The terminal ticket is unknown or was used already.",
          expired: "The terminal ticket has expired.",
          "wrong-session": "The terminal ticket belongs to another session.",
        }[verdict.reason];
        return refuse(req, socket, 403, why);
      }
      const { grant } = verdict;
      const session = await hub.services?.readSession(token).catch(() => null);
      if (!session || session.sessionId !== grant.sessionId)
        return refuse(req, socket, 401, "The session has ended; sign in again.");
      const who = { actor: "owner" as const, username: grant.username };
      const remoteAddr = req.socket.remoteAddress ?? null;

      if (grant.terminalId) {
        const t = live.get(grant.terminalId);
        if (!t || t.ended || t.sessionId !== grant.sessionId)
          return refuse(req, socket, 410, "That terminal has ended.", who);
        if (t.ws) return refuse(req, socket, 403, "That terminal is open in another window.", who);
        wss.handleUpgrade(req, socket, head, (ws) => {
          if (t.ended || t.ws) return ws.close(1011, "terminal no longer available");
          audit({
            actor: "owner",
            action: "terminal.reattached",
            target: t.username,
            remoteAddr,
            detail: { terminal: t.id },
          });
          t.remoteAddr = remoteAddr;
          attach(t, ws, true);
          t.pty.resize(size.data);
        });
        return;
      }
      if (live.size >= MAX_TERMINALS)
        return refuse(req, socket, 429, `At most ${MAX_TERMINALS} terminals may be open at once.`, who);
      wss.handleUpgrade(req, socket, head, (ws) => {
        void open(ws, grant, size.data, remoteAddr);
      });
    },

    close() {
      for (const t of [...live.values()]) end(t, "shutdown");
      wss.close();
    },

    get size() {
      return live.size;
    },
  };
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * scripts/server.ts's `upgrade` listener: every WebSocket upgrade needs an allowed Host and our exact
 * Origin (checkRequest, as for state-changing requests); the terminal's then go to the gateway.
 * Others (Next's dev reloader) are left to whoever else listens.
 */
export function upgradeListener(options: {
  tls: boolean;
  hostPolicy: () => HostPolicy;
  terminal: TerminalGateway;
  onRefused?: (req: http.IncomingMessage, reason: string) => void;
}) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const verdict = checkRequest(
      {
        method: req.method ?? "GET",
        host: first(req.headers.host),
        origin: first(req.headers.origin),
        fetchSite: first(req.headers["sec-fetch-site"]),
        secure: options.tls,
        upgrade: true,
      },
      options.hostPolicy(),
    );
    if (!verdict.ok) {
      options.onRefused?.(req, verdict.reason);
      httpError(socket, verdict.status, `${verdict.reason}\n`);
      return;
    }
    if (!options.terminal.handles(req)) return;
    options.terminal.upgrade(req, socket, head).catch((error: unknown) => {
      console.error("freehold-web: terminal upgrade failed", error);
      socket.destroy();
    });
  };
}
