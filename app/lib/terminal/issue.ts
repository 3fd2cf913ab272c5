import type { TerminalTicketRequest } from "../../_schemas/terminal";
import type { PrismaClient } from "../../_server/generated/prisma/client";
import { audit } from "../audit";
import { withLock } from "../auth/lock";
import { verifyPassword } from "../auth/password";
import { blockedFor, clearFailures, POLICIES, recordFailure } from "../auth/rate-limit";
import { readSession } from "../auth/session";
import type { TerminalHub } from "./hub";

/**
 * POST /api/terminal/ticket's work: the owner types the password again (rate limited per address
 * and for the account like sign-in, every outcome audited), and gets a ticket for one WebSocket
 * upgrade within a minute. Reattaching after a reload needs no password, only this session's own
 * detached terminal: the ticket then names it.
 */

export type TicketResult =
  | { ok: true; ticket: string; expiresAt: number }
  | { ok: false; status: 401 | 410 | 422 | 429; error: string; message: string; retryAfterMs?: number };

export async function issueTerminalTicket(
  db: PrismaClient,
  hub: TerminalHub,
  session: { sessionId: string; owner: { id: number; username: string } },
  input: TerminalTicketRequest,
  ctx: { remoteAddr: string; now?: Date },
): Promise<TicketResult> {
  const now = ctx.now ?? new Date();
  // The gateway (another bundle) reads sessions and writes the audit log through these.
  hub.services = {
    readSession: (token) => readSession(db, token),
    audit: (event) => audit(db, event),
  };

  if ("reattach" in input) {
    const t = hub.terminals.get(input.reattach);
    if (!t || t.sessionId !== session.sessionId || !t.detached) {
      return { ok: false, status: 410, error: "gone", message: "That terminal has ended." };
    }
    return {
      ok: true,
      ...hub.tickets.issue({
        sessionId: session.sessionId,
        ownerId: session.owner.id,
        username: session.owner.username,
        terminalId: t.id,
      }),
    };
  }

  const keys = [
    { key: `terminal:ip:${ctx.remoteAddr}`, policy: POLICIES.loginIp },
    { key: "terminal:account", policy: POLICIES.loginAccount },
  ];
  return withLock("terminal-ticket", async (): Promise<TicketResult> => {
    const wait = await blockedFor(db, keys, now);
    if (wait > 0) {
      return {
        ok: false,
        status: 429,
        error: "rate-limited",
        message: `Too many wrong passwords. Try again in ${Math.ceil(wait / 1000)} s.`,
        retryAfterMs: wait,
      };
    }
    const owner = await db.owner.findUnique({ where: { id: session.owner.id } });
    if (!owner) return { ok: false, status: 401, error: "unauthenticated", message: "Sign in first." };
    if (!(await verifyPassword(input.password, owner.passwordHash))) {
      await recordFailure(db, keys, now);
      await audit(db, {
        actor: "owner",
        action: "terminal.ticket.failed",
        target: owner.username,
        remoteAddr: ctx.remoteAddr,
      });
      return {
        ok: false,
        status: 422,
        error: "invalid",
        message: "Wrong password.",
      };
    }
    await clearFailures(
      db,
      keys.map((k) => k.key),
    );
    await audit(db, {
      actor: "owner",
      action: "terminal.ticket",
      target: owner.username,
      remoteAddr: ctx.remoteAddr,
    });
    return {
      ok: true,
      ...hub.tickets.issue({
        sessionId: session.sessionId,
        ownerId: owner.id,
        username: owner.username,
        terminalId: null,
      }),
    };
  });
}
