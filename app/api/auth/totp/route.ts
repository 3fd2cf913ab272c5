import { NextResponse } from "next/server";
import { z } from "zod";
import { TotpConfirmSchema, TotpDisableSchema } from "../../../_schemas/auth";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { audit } from "../../../lib/audit";
import { verifyPassword } from "../../../lib/auth/password";
import { generateTotpSecret, verifyTotp } from "../../../lib/auth/totp";

/** Two-step sign-in: start (a pending secret), confirm (a code from it), or turn it off (password). */
const TotpActionSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("start") }),
  TotpConfirmSchema.extend({ action: z.literal("confirm") }),
  TotpDisableSchema.extend({ action: z.literal("disable") }),
]);

export const POST = handler(TotpActionSchema, { auth: true }, async (input, { session, facts }) => {
  const owner = await db().owner.findUniqueOrThrow({ where: { id: session.owner.id } });
  if (input.action === "start") {
    if (owner.totpSecret) return problem(409, "conflict", "Two-step sign-in is already on.");
    await db().owner.update({ where: { id: owner.id }, data: { totpPendingSecret: generateTotpSecret() } });
    return NextResponse.json({ ok: true });
  }
  if (input.action === "confirm") {
    if (!owner.totpPendingSecret) return problem(409, "conflict", "Start again: no code is being set up.");
    const step = verifyTotp(owner.totpPendingSecret, input.code, Date.now() / 1000);
    if (step === null)
      return problem(422, "invalid", "That code does not match.", {
        fields: { code: ["That code does not match."] },
      });
    await db().owner.update({
      where: { id: owner.id },
      data: { totpSecret: owner.totpPendingSecret, totpPendingSecret: null, totpLastStep: step },
    });
    await audit(db(), {
      actor: "owner",
      action: "totp.enabled",
      target: owner.username,
      remoteAddr: facts.remoteAddr,
    });
    return NextResponse.json({ ok: true });
  }
  if (!(await verifyPassword(input.password, owner.passwordHash))) {
    return problem(422, "invalid", "Wrong password.", { fields: { password: ["Wrong password."] } });
  }
  await db().owner.update({
    where: { id: owner.id },
    data: { totpSecret: null, totpPendingSecret: null, totpLastStep: null },
  });
  await audit(db(), {
    actor: "owner",
    action: "totp.disabled",
    target: owner.username,
    remoteAddr: facts.remoteAddr,
  });
  return NextResponse.json({ ok: true });
});
