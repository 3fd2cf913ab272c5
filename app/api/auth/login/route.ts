import { NextResponse } from "next/server";
import { LoginSchema } from "../../../_schemas/auth";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { sessionSetCookie } from "../../../_server/session";
import { login } from "../../../lib/auth/login";

export const POST = handler(LoginSchema, { auth: false }, async (input, { facts }) => {
  const result = await login(db(), input, { remoteAddr: facts.remoteAddr, userAgent: facts.userAgent });
  if (!result.ok) {
    const retry =
      "retryAfterMs" in result
        ? { headers: { "retry-after": String(Math.ceil(result.retryAfterMs / 1000)) } }
        : undefined;
    return problem(result.status, result.error, result.message, {}, retry);
  }
  const response = NextResponse.json(
    { ok: true, next: "/dashboard" },
    { headers: { "cache-control": "no-store" } },
  );
  response.headers.append("set-cookie", await sessionSetCookie(result.token));
  return response;
});
