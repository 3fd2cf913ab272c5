import type { AuditAction } from "../audit";
import { TicketStore } from "./tickets";

/**
 * What the ticket route handler (inside Next's bundle) and the WebSocket gateway (in
 * scripts/server.ts's bundle) share in the one freehold-web process: the tickets, the open
 * terminals, and the session and audit functions. Two bundles mean two copies of every module, so
 * the state hangs off globalThis under a registered symbol, created by whichever side comes first.
 *
 * The route handler installs `services` (Prisma lives in Next's bundle) each time it issues a
 * ticket; the gateway never accepts a connection without a ticket, so it never runs without them.
 */

export interface TerminalAuditEvent {
  actor: "owner" | "anonymous";
  action: Extract<AuditAction, `terminal.${string}`>;
  target?: string | null;
  detail?: Record<string, unknown>;
  remoteAddr?: string | null;
}

export interface TerminalServices {
  /** The session behind a cookie token, or null (expired, signed out, unknown). */
  readSession(token: string): Promise<{ sessionId: string; owner: { id: number; username: string } } | null>;
  audit(event: TerminalAuditEvent): Promise<void>;
}

/** An open terminal as the ticket route sees it (the gateway keeps the rest). */
export interface TerminalEntry {
  readonly id: string;
  readonly sessionId: string;
  /** No WebSocket is attached; the terminal ends unless reattached in time. */
  readonly detached: boolean;
  /** Ends the shell and closes the WebSocket (audited as terminal.closed). */
  end(): void;
}

export interface TerminalHub {
  tickets: TicketStore;
  terminals: Map<string, TerminalEntry>;
  services: TerminalServices | null;
}

const KEY = Symbol.for("freehold.terminal.hub");

export function terminalHub(): TerminalHub {
  const g = globalThis as unknown as Record<symbol, TerminalHub | undefined>;
  g[KEY] ??= { tickets: new TicketStore(), terminals: new Map(), services: null };
  return g[KEY];
}

/** Sign-out: the session's tickets are void and its terminals end. */
export function endSessionTerminals(sessionId: string): void {
  const hub = terminalHub();
  hub.tickets.revokeSession(sessionId);
  for (const t of [...hub.terminals.values()]) if (t.sessionId === sessionId) t.end();
}
