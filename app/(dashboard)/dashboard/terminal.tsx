"use client";
import "@xterm/xterm/css/xterm.css";
import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useRef, useState } from "react";

/**
 * The web terminal: the owner types the password again, gets a one-minute single-use ticket, and
 * opens a WebSocket on this same origin (/api/terminal/ws). xterm.js draws it (loaded on demand,
 * so the dashboard does not carry it until the terminal is opened); the fit addon sizes it to its
 * box and every size change is sent to the pty. The terminal's id is kept in sessionStorage: after
 * a reload the page reattaches within the box's window (30 s) without asking for the password.
 */

type Phase =
  | { name: "closed"; note?: string }
  | { name: "password"; error?: string; busy?: boolean }
  | { name: "connecting" }
  | { name: "open"; user: string };

type ServerMessage =
  | { type: "hello"; id: string; reattached: boolean; user: string }
  | { type: "data"; data: string }
  | { type: "exit"; code: number | null; reason: string; message?: string };

const STORAGE_KEY = "freehold.terminal";
const COLS = { min: 2, max: 500 };
const ROWS = { min: 1, max: 200 };
const clamp = (n: number, r: { min: number; max: number }) => Math.min(r.max, Math.max(r.min, Math.floor(n)));

const ENDED: Record<string, string> = {
  exit: "The shell exited.",
  closed: "The terminal was closed.",
  idle: "The terminal was closed after 15 minutes without input.",
  "detached-too-long": "The terminal ended while this page was away.",
  protocol: "The terminal was closed: the box did not understand this page.",
  shutdown: "The terminal was closed: the box's web app is restarting.",
};

async function requestTicket(
  body: unknown,
): Promise<{ ok: true; ticket: string } | { ok: false; message: string }> {
  const response = await fetch("/api/terminal/ticket", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json().catch(() => ({}))) as {
    ok?: boolean;
    ticket?: string;
    message?: string;
  };
  return json.ok && json.ticket
    ? { ok: true, ticket: json.ticket }
    : { ok: false, message: json.message ?? `The box answered ${response.status}.` };
}

export function TerminalCard() {
  const [phase, setPhase] = useState<Phase>({ name: "closed" });
  const [size, setSize] = useState<{ cols: number; rows: number } | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<{ terminal: Terminal; fit: FitAddon } | null>(null);
  const socket = useRef<WebSocket | null>(null);

  const send = useCallback((message: unknown) => {
    const ws = socket.current;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }, []);

  /** xterm.js, created once, in the box. */
  const ensureTerminal = useCallback(async () => {
    if (term.current) return term.current;
    const [{ Terminal }, { FitAddon }] = await Promise.all([
      import("@xterm/xterm"),
      import("@xterm/addon-fit"),
    ]);
    const terminal = new Terminal({
      cursorBlink: true,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace",
      fontSize: 14,
      scrollback: 5000,
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    if (!box.current) throw new Error("no terminal box");
    terminal.open(box.current);
    fit.fit();
    setSize({ cols: terminal.cols, rows: terminal.rows });
    terminal.onData((data) => {
      // A big paste goes in pieces well under the box's 64 KiB message limit.
      for (let at = 0; at < data.length; at += 8192) send({ type: "data", data: data.slice(at, at + 8192) });
    });
    terminal.onResize(({ cols, rows }) => {
      setSize({ cols, rows });
      send({ type: "resize", cols: clamp(cols, COLS), rows: clamp(rows, ROWS) });
    });
    term.current = { terminal, fit };
    return term.current;
  }, [send]);

  const connect = useCallback(
    async (ticket: string) => {
      setPhase({ name: "connecting" });
      const { terminal, fit } = await ensureTerminal();
      fit.fit();
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      const query = new URLSearchParams({
        ticket,
        cols: String(clamp(terminal.cols, COLS)),
        rows: String(clamp(terminal.rows, ROWS)),
      });
      const ws = new WebSocket(`${scheme}//${window.location.host}/api/terminal/ws?${query}`);
      socket.current = ws;
      let ended: string | null = null;
      ws.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as ServerMessage;
        if (message.type === "hello") {
          sessionStorage.setItem(STORAGE_KEY, message.id);
          setPhase({ name: "open", user: message.user });
          send({ type: "resize", cols: clamp(terminal.cols, COLS), rows: clamp(terminal.rows, ROWS) });
          terminal.focus();
        } else if (message.type === "data") {
          terminal.write(message.data);
        } else if (message.type === "exit") {
          ended =
            message.reason === "refused"
              ? `The terminal could not start: ${message.message ?? "see the box's log"}.`
              : (ENDED[message.reason] ?? "The terminal ended.");
          sessionStorage.removeItem(STORAGE_KEY);
        }
      };
      ws.onclose = (event) => {
        if (socket.current !== ws) return;
        socket.current = null;
        if (!ended && event.code !== 1001) sessionStorage.removeItem(STORAGE_KEY);
        setPhase({ name: "closed", note: ended ?? `The connection to the terminal closed (${event.code}).` });
      };
    },
    [ensureTerminal, send],
  );

  // After a reload: reattach to this tab's terminal while the box still keeps it.
  useEffect(() => {
    const id = sessionStorage.getItem(STORAGE_KEY);
    if (!id) return;
    void requestTicket({ reattach: id }).then((result) => {
      if (result.ok) void connect(result.ticket);
      else sessionStorage.removeItem(STORAGE_KEY);
    });
  }, [connect]);

  // Follow the box's size (window resizes, the phone turning).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => term.current?.fit.fit());
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(
    () => () => {
      socket.current?.close(1001);
      term.current?.terminal.dispose();
    },
    [],
  );

  const open = phase.name === "open" || phase.name === "connecting";
  return (
    <>
      {phase.name === "open" && (
        <p data-testid="terminal-status" data-state="open">
          Signed in as <strong>{phase.user}</strong>. Use <code>sudo</code> for root (it asks for your
          password).
        </p>
      )}
      {phase.name === "connecting" && (
        <p data-testid="terminal-status" data-state="connecting">
          Connecting…
        </p>
      )}
      {phase.name === "closed" && (
        <>
          <p data-testid="terminal-status" data-state="closed">
            {phase.note ?? "A shell on the box, as your own account."}
          </p>
          <button type="button" onClick={() => setPhase({ name: "password" })}>
            Open the terminal
          </button>
        </>
      )}
      {phase.name === "password" && (
        <form
          method="post"
          onSubmit={async (e) => {
            e.preventDefault();
            const password = String(new FormData(e.currentTarget).get("password") ?? "");
            setPhase({ name: "password", busy: true });
            const result = await requestTicket({ password });
            if (result.ok) await connect(result.ticket);
            else setPhase({ name: "password", error: result.message });
          }}
        >
          <label htmlFor="terminal-password">Your password (to open the terminal)</label>
          <input
            id="terminal-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            // biome-ignore lint/a11y/noAutofocus: the form appears because the owner asked for it
            autoFocus
          />
          <p className="form-error" role="alert">
            {phase.error ?? ""}
          </p>
          <button type="submit" disabled={phase.busy}>
            Open the terminal
          </button>
        </form>
      )}
      <div
        ref={box}
        className="terminal"
        data-testid="terminal"
        data-cols={size?.cols}
        data-rows={size?.rows}
        hidden={!open && !term.current}
      />
      {open && (
        <button type="button" onClick={() => send({ type: "close" })}>
          End the terminal
        </button>
      )}
    </>
  );
}
