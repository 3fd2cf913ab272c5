import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "../../_server/generated/prisma/client";

/**
 * Sessions: the cookie holds 32 random bytes (base64url); the database keeps only their SHA-256,
 * so a leaked database holds no usable session. Sessions end after 12 idle hours or 7 days.
 */
export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 24 * 3600_000;

export function newSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

export function sessionIdOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createSession(
  db: PrismaClient,
  ownerId: number,
  meta: { userAgent?: string | null; remoteAddr?: string | null },
  now = new Date(),
): Promise<string> {
  const token = newSessionToken();
  await db.session.create({
    data: {
      id: sessionIdOf(token),
      ownerId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + SESSION_MAX_MS),
      userAgent: meta.userAgent?.slice(0, 300) ?? null,
      remoteAddr: meta.remoteAddr ?? null,
    },
  });
  return token;
}

export interface SessionOwner {
  sessionId: string;
  owner: { id: number; username: string; totpEnabled: boolean };
}

/** The owner behind a cookie token, or null; expired sessions are deleted on sight. */
export async function readSession(db: PrismaClient, token: string | undefined, now = new Date()) {
  if (!token || token.length > 100) return null;
  const id = sessionIdOf(token);
  const session = await db.session.findUnique({ where: { id }, include: { owner: true } });
  if (!session) return null;
  if (session.expiresAt <= now || now.getTime() - session.lastSeenAt.getTime() > SESSION_IDLE_MS) {
    await db.session.deleteMany({ where: { id } });
    return null;
  }
  if (now.getTime() - session.lastSeenAt.getTime() > 60_000) {
    await db.session.update({ where: { id }, data: { lastSeenAt: now } });
  }
  const { owner } = session;
  return {
    sessionId: id,
    owner: { id: owner.id, username: owner.username, totpEnabled: owner.totpSecret !== null },
  } satisfies SessionOwner;
}

export async function deleteSession(db: PrismaClient, token: string | undefined): Promise<void> {
  if (!token) return;
  await db.session.deleteMany({ where: { id: sessionIdOf(token) } });
}
