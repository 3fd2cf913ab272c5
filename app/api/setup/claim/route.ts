import { NextResponse } from "next/server";
import { ClaimSchema } from "../../../_schemas/auth";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { sessionSetCookie } from "../../../_server/session";
import { claimBox } from "../../../lib/auth/claim";
import { unixPasswordHash } from "../../../lib/auth/unix-password";

export const POST = handler(ClaimSchema, { auth: false }, async (input, { facts }) => {
  const result = await claimBox(db(), input, {
    remoteAddr: facts.remoteAddr,
    userAgent: facts.userAgent,
    unixHash: unixPasswordHash,
  });
  if (!result.ok) {
    const retry =
      "retryAfterMs" in result && result.retryAfterMs > 0 ? Math.ceil(result.retryAfterMs / 1000) : null;
    return problem(
      result.status,
      result.error,
      result.message,
      "fields" in result ? { fields: result.fields } : {},
      retry ? { headers: { "retry-after": String(retry) } } : undefined,
    );
  }
  const response = NextResponse.json(
    { ok: true, next: "/setup/hardware" },
    { headers: { "cache-control": "no-store" } },
  );
  response.headers.append("set-cookie", await sessionSetCookie(result.token));
  return response;
});
