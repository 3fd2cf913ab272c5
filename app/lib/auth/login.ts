import type { LoginInput } from "../../_schemas/auth";
import type { PrismaClient } from "../../_server/generated/prisma/client";
import { audit } from "../audit";
import { withLock } from "./lock";
import { hashPassword, verifyPassword } from "./password";
import { blockedFor, clearFailures, POLICIES, recordFailure } from "./rate-limit";
import { createSession } from "./session";
import { verifyTotp } from "./totp";

export type LoginResult =
  | { ok: true; token: string }
  | { ok: false; status: 401; error: "bad-credentials" | "totp-required"; message: string }
  | { ok: false; status: 429; error: "rate-limited"; message: string; retryAfterMs: number };

let dummyHash: Promise<string> | null = null;

/** Password (and TOTP when enabled) check with growing delays per address and for the account. */
export async function login(
  db: PrismaClient,
  input: LoginInput,
  ctx: { remoteAddr: string; userAgent: string | null; now?: Date },
): Promise<LoginResult> {
  const now = ctx.now ?? new Date();
  const keys = [
    { key: `login:ip:${ctx.remoteAddr}`, policy: POLICIES.loginIp },
    { key: "login:account", policy: POLICIES.loginAccount },
  ];
  return withLock("login", async () => {
    const wait = await blockedFor(db, keys, now);
    if (wait > 0) {
      return {
        ok: false,
        status: 429,
        error: "rate-limited",
        message: `Too many failed sign-ins. Try again in ${Math.ceil(wait / 1000)} s.`,
        retryAfterMs: wait,
      } as const;
    }
    const owner = await db.owner.findUnique({ where: { username: input.username.toLowerCase() } });
    dummyHash ??= hashPassword("not-the-password-of-anyone");
    // Verify against something either way, so an unknown user name costs the same time.
    const passwordOk = await verifyPassword(input.password, owner?.passwordHash ?? (await dummyHash));
    const fail = async (why: string) => {
      const next = await recordFailure(db, keys, now);
      await audit(db, {
        actor: "anonymous",
        action: "login.failed",
        remoteAddr: ctx.remoteAddr,
        detail: { why },
      });
      return next;
    };
    if (!owner || !passwordOk) {
      await fail("password");
      return {
        ok: false,
        status: 401,
        error: "bad-credentials",
        message: "Wrong user name or password.",
      } as const;
    }
    if (owner.totpSecret) {
      if (!input.totp) {
        return {
          ok: false,
          status: 401,
          error: "totp-required",
          message: "Enter the six-digit code from your authenticator app.",
        } as const;
      }
      const step = verifyTotp(owner.totpSecret, input.totp, now.getTime() / 1000, owner.totpLastStep);
      if (step === null) {
        await fail("totp");
        return {
          ok: false,
          status: 401,
          error: "bad-credentials",
          message: "That code is wrong or was used already.",
        } as const;
      }
      await db.owner.update({ where: { id: owner.id }, data: { totpLastStep: step } });
    }
    await clearFailures(db, [`login:ip:${ctx.remoteAddr}`, "login:account"]);
    const token = await createSession(db, owner.id, ctx, now);
    await audit(db, {
      actor: "owner",
      action: "login.succeeded",
      target: owner.username,
      remoteAddr: ctx.remoteAddr,
    });
    return { ok: true, token } as const;
  });
}
