import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { serializeSessionCookie } from "../lib/auth/cookie";
import { readSession, SESSION_MAX_MS } from "../lib/auth/session";
import { db } from "./db";
import { requestFacts } from "./request";

export async function sessionToken(): Promise<string | undefined> {
  const { cookie } = await requestFacts();
  return (await cookies()).get(cookie.name)?.value;
}

/** The signed-in owner, or null. */
export async function currentOwner() {
  return readSession(db(), await sessionToken());
}

/** For pages: the signed-in owner, or a redirect to the sign-in page. */
export async function requireOwner() {
  const session = await currentOwner();
  if (!session) redirect("/login");
  return session;
}

export async function sessionSetCookie(token: string | null): Promise<string> {
  const { cookie } = await requestFacts();
  return serializeSessionCookie(cookie, token, Math.floor(SESSION_MAX_MS / 1000));
}
