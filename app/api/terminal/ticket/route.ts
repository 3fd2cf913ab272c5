import { NextResponse } from "next/server";
import { TerminalTicketRequestSchema } from "../../../_schemas/terminal";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { terminalHub } from "../../../lib/terminal/hub";
import { issueTerminalTicket } from "../../../lib/terminal/issue";

/**
 * A ticket for the terminal's WebSocket (/api/terminal/ws?ticket=...): after the password, or to
 * reattach this session's own terminal after a reload. Good for one upgrade within a minute.
 */
export const POST = handler(
  TerminalTicketRequestSchema,
  { auth: true },
  async (input, { session, facts }) => {
    const result = await issueTerminalTicket(db(), terminalHub(), session, input, {
      remoteAddr: facts.remoteAddr,
    });
    if (!result.ok) {
      const retry = result.retryAfterMs
        ? { headers: { "retry-after": String(Math.ceil(result.retryAfterMs / 1000)) } }
        : undefined;
      const fields = result.status === 422 ? { fields: { password: [result.message] } } : {};
      return problem(result.status, result.error, result.message, fields, retry);
    }
    return NextResponse.json(
      { ok: true, ticket: result.ticket, expiresAt: result.expiresAt, path: "/api/terminal/ws" },
      { headers: { "cache-control": "no-store" } },
    );
  },
);
