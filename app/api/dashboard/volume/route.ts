import { NextResponse } from "next/server";
import { UnlockVolumeSchema } from "../../../_schemas/volume";
import { db } from "../../../_server/db";
import { handler, problem } from "../../../_server/http";
import { currentOwner } from "../../../_server/session";
import { unlockVolume, volumeState } from "../../../_server/volume";
import { audit } from "../../../lib/audit";
import { blockedFor, POLICIES, recordFailure } from "../../../lib/auth/rate-limit";
import { readEnv } from "../../../lib/env";
import { AgentError } from "../../../lib/plan/agent-executor";

/** The data volume's state for the dashboard (locked after a reboot until unlocked here). */
export async function GET(): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  return NextResponse.json(
    { ok: true, state: await volumeState() },
    { headers: { "cache-control": "no-store" } },
  );
}

const UNLOCK_LIMIT = [{ key: "volume-unlock", policy: POLICIES.loginAccount }];

/** Unlock: the passphrase goes to the agent on its socket; wrong ones are rate limited and audited. */
export const POST = handler(UnlockVolumeSchema, { auth: true }, async ({ passphrase }, { facts }) => {
  if (readEnv().FREEHOLD_MODE !== "appliance")
    return problem(409, "conflict", "Preview mode has no data volume to unlock.");
  const wait = await blockedFor(db(), UNLOCK_LIMIT, new Date());
  if (wait > 0)
    return problem(
      429,
      "rate-limited",
      `Too many wrong passphrases; try again in ${Math.ceil(wait / 1000)} s.`,
    );
  try {
    await unlockVolume(passphrase);
  } catch (error) {
    if (error instanceof AgentError && error.problem === "failed") {
      await recordFailure(db(), UNLOCK_LIMIT, new Date());
      await audit(db(), { actor: "owner", action: "volume.unlock.failed", remoteAddr: facts.remoteAddr });
      return problem(422, "invalid", "That passphrase does not open the data volume.", {
        fields: { passphrase: ["That passphrase does not open the data volume."] },
      });
    }
    throw error;
  }
  await audit(db(), { actor: "owner", action: "volume.unlocked", remoteAddr: facts.remoteAddr });
  return NextResponse.json({ ok: true, state: await volumeState() });
});
