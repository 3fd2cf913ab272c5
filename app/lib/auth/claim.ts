import type { ClaimInput } from "../../_schemas/auth";
import type { PrismaClient } from "../../_server/generated/prisma/client";
import { audit } from "../audit";
import { setupCodeMatches } from "../setup-code/code";
import { withLock } from "./lock";
import { hashPassword, passwordProblems } from "./password";
import { blockedFor, clearFailures, POLICIES, recordFailure } from "./rate-limit";
import { createSession } from "./session";

export type ClaimResult =
  | { ok: true; token: string; ownerId: number }
  | { ok: false; status: 403; error: "closed"; message: string }
  | {
      ok: false;
      status: 403 | 429;
      error: "bad-code" | "rate-limited";
      message: string;
      retryAfterMs: number;
    }
  | { ok: false; status: 422; error: "invalid"; message: string; fields: Record<string, string[]> };

export interface ClaimContext {
  remoteAddr: string;
  userAgent: string | null;
  now?: Date;
  /** Makes the crypt(3) hash for the Unix account (null when unavailable). */
  unixHash?: (password: string) => Promise<string | null>;
  hash?: (password: string) => Promise<string>;
}

const CLOSED = "This box already has an owner. Sign in instead.";

export async function isClaimed(db: PrismaClient): Promise<boolean> {
  const [claim, owners] = await Promise.all([
    db.setupClaim.findUnique({ where: { id: 1 } }),
    db.owner.count(),
  ]);
  return owners > 0 || claim?.claimedAt != null;
}

/**
 * Claims the box: checks the setup code (rate limited per address and globally) and creates the
 * owner and a session, all under one lock. Two browsers racing get exactly one owner: the lock
 * serializes this process, and the conditional UPDATE on SetupClaim plus the unique
 * Owner.singleton index decide between processes.
 */
export async function claimBox(db: PrismaClient, input: ClaimInput, ctx: ClaimContext): Promise<ClaimResult> {
  const now = ctx.now ?? new Date();
  if (await isClaimed(db)) return { ok: false, status: 403, error: "closed", message: CLOSED };

  const problems = passwordProblems(input.password, { username: input.username });
  const fields: Record<string, string[]> = {};
  if (problems.length > 0) fields.password = problems;
  if (input.password !== input.passwordConfirm) fields.passwordConfirm = ["The two passwords differ."];
  if (Object.keys(fields).length > 0) {
    return { ok: false, status: 422, error: "invalid", message: "Check the highlighted fields.", fields };
  }

  return withLock("claim", async () => {
    const claim = await db.setupClaim.findUnique({ where: { id: 1 } });
    if (!claim || claim.claimedAt || (await db.owner.count()) > 0) {
      await audit(db, {
        actor: "anonymous",
        action: "setup.claim.refused",
        remoteAddr: ctx.remoteAddr,
        detail: { why: "closed" },
      });
      return {
        ok: false,
        status: 403,
        error: "closed",
        message: claim ? CLOSED : "No setup code has been issued yet.",
      } as const;
    }
    const keys = [
      { key: `claim:ip:${ctx.remoteAddr}`, policy: POLICIES.claimIp },
      { key: "claim:global", policy: POLICIES.claimGlobal },
    ];
    const wait = await blockedFor(db, keys, now);
    if (wait > 0) {
      await audit(db, {
        actor: "anonymous",
        action: "setup.claim.refused",
        remoteAddr: ctx.remoteAddr,
        detail: { why: "rate-limited" },
      });
      return {
        ok: false,
        status: 429,
        error: "rate-limited",
        message: `Too many wrong codes. Try again in ${Math.ceil(wait / 1000)} s.`,
        retryAfterMs: wait,
      } as const;
    }
    if (!setupCodeMatches(input.code, claim.codeHash)) {
      const next = await recordFailure(db, keys, now);
      await audit(db, { actor: "anonymous", action: "setup.claim.failed", remoteAddr: ctx.remoteAddr });
      return {
        ok: false,
        status: 403,
        error: "bad-code",
        message:
          next > 0
            ? `That is not this box's setup code. Wait ${Math.ceil(next / 1000)} s before the next try.`
            : "That is not this box's setup code. It is shown on the box's screen.",
        retryAfterMs: next,
      } as const;
    }

    const passwordHash = await (ctx.hash ?? hashPassword)(input.password);
    const unixHash = ctx.unixHash ? await ctx.unixHash(input.password) : null;
    const result = await db.$transaction(async (tx) => {
      const closed = await tx.setupClaim.updateMany({
        where: { id: 1, claimedAt: null },
        data: { claimedAt: now },
      });
      if (closed.count !== 1) return null;
      const owner = await tx.owner.create({
        data: {
          username: input.username,
          passwordHash,
          sshPublicKey: input.sshPublicKey ? input.sshPublicKey : null,
        },
      });
      if (unixHash) {
        await tx.planSecret.create({
          data: { planId: "draft", name: "owner.unixPasswordHash", value: unixHash },
        });
      }
      return owner;
    });
    if (!result) return { ok: false, status: 403, error: "closed", message: CLOSED } as const;
    await clearFailures(db, [`claim:ip:${ctx.remoteAddr}`]);
    const token = await createSession(
      db,
      result.id,
      { userAgent: ctx.userAgent, remoteAddr: ctx.remoteAddr },
      now,
    );
    await audit(db, {
      actor: "owner",
      action: "setup.claimed",
      target: result.username,
      remoteAddr: ctx.remoteAddr,
    });
    return { ok: true, token, ownerId: result.id } as const;
  });
}
