import { createHash, randomBytes } from "node:crypto";

/**
 * Terminal tickets: what the WebSocket upgrade must present besides the session cookie. A ticket is
 * 32 random bytes (base64url), issued by POST /api/terminal/ticket after the owner typed the password
 * again (or, to reattach after a reload, for this session's own detached terminal). It is good for
 * TICKET_TTL_MS, once, and only together with the session it was issued to. Only its SHA-256 is
 * kept, in memory: a restart voids every ticket, which costs nothing but a password prompt.
 */

export const TICKET_TTL_MS = 60_000;
/** Outstanding tickets per session; older ones are dropped when more are asked for. */
const MAX_PER_SESSION = 8;

export interface TicketGrant {
  /** The session (SHA-256 of the cookie token, Session.id) the ticket belongs to. */
  sessionId: string;
  ownerId: number;
  username: string;
  /** Reattach to this terminal instead of opening a new one. */
  terminalId: string | null;
}

interface Entry extends TicketGrant {
  expiresAt: number;
}

export type TicketVerdict =
  | { ok: true; grant: TicketGrant }
  | { ok: false; reason: "unknown" | "expired" | "wrong-session" };

const digest = (ticket: string) => createHash("sha256").update(ticket).digest("hex");

export class TicketStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = TICKET_TTL_MS,
  ) {}

  issue(grant: TicketGrant): { ticket: string; expiresAt: number } {
    this.sweep();
    const mine = [...this.entries].filter(([, e]) => e.sessionId === grant.sessionId);
    for (const [key] of mine.slice(0, Math.max(0, mine.length - MAX_PER_SESSION + 1)))
      this.entries.delete(key);
    const ticket = randomBytes(32).toString("base64url");
    const expiresAt = this.now() + this.ttlMs;
    this.entries.set(digest(ticket), { ...grant, expiresAt });
    return { ticket, expiresAt };
  }

  /**
   * Redeems a ticket for a session. The ticket is gone afterwards whatever the verdict: a ticket
   * that reached the wrong session, or came too late, cannot be tried again.
   */
  redeem(ticket: string, sessionId: string): TicketVerdict {
    const key = digest(ticket);
    const entry = this.entries.get(key);
    this.entries.delete(key);
    if (!entry) return { ok: false, reason: "unknown" };
    if (this.now() >= entry.expiresAt) return { ok: false, reason: "expired" };
    if (entry.sessionId !== sessionId) return { ok: false, reason: "wrong-session" };
    const { expiresAt: _, ...grant } = entry;
    return { ok: true, grant };
  }

  /** Drops every ticket of a session (sign-out). */
  revokeSession(sessionId: string): void {
    for (const [key, e] of this.entries) if (e.sessionId === sessionId) this.entries.delete(key);
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, e] of this.entries) if (now >= e.expiresAt) this.entries.delete(key);
  }
}
