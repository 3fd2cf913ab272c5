import { NextResponse } from "next/server";
import { z } from "zod";
import { db } from "../../../_server/db";
import { handler } from "../../../_server/http";
import { sessionSetCookie, sessionToken } from "../../../_server/session";
import { audit } from "../../../lib/audit";
import { deleteSession, sessionIdOf } from "../../../lib/auth/session";
import { endSessionTerminals } from "../../../lib/terminal/hub";

export const POST = handler(z.strictObject({}), { auth: false }, async (_input, { facts }) => {
  const token = await sessionToken();
  await deleteSession(db(), token);
  // Signing out also ends this session's terminals and voids its unused terminal tickets.
  if (token) endSessionTerminals(sessionIdOf(token));
  await audit(db(), { actor: "owner", action: "logout", remoteAddr: facts.remoteAddr });
  const response = NextResponse.json(
    { ok: true, next: "/login" },
    { headers: { "cache-control": "no-store" } },
  );
  response.headers.append("set-cookie", await sessionSetCookie(null));
  return response;
});
