import os from "node:os";
import { db } from "../../../../_server/db";
import { problem } from "../../../../_server/http";
import { currentOwner } from "../../../../_server/session";
import { currentPlan } from "../../../../_server/setup";
import { setupStage } from "../../../../_server/stage";

/** The recovery kit as a text file, while it is still waiting for the owner's confirmation. */
export async function GET(): Promise<Response> {
  if ((await setupStage()) !== "wizard") return problem(403, "closed", "Setup is not open.");
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  const plan = await currentPlan();
  if (!plan || plan.kitConfirmedAt) return problem(404, "not-found", "There is no recovery kit to show.");
  const secrets = await db().planSecret.findMany({
    where: { planId: plan.id, name: { in: ["disk.recoveryKey", "backup.repositoryPassword"] } },
  });
  const get = (name: string) => secrets.find((s) => s.name === name)?.value;
  const text = [
    `Freehold recovery kit for ${os.hostname()}`,
    `Made ${new Date().toISOString()}`,
    "",
    `Disk recovery key:          ${get("disk.recoveryKey") ?? "(the data disk is not encrypted)"}`,
    `Backup repository password: ${get("backup.repositoryPassword") ?? "(no backups configured)"}`,
    "",
    "Keep this away from the box. The recovery key opens the encrypted data disk",
    "(cryptsetup open); the backup password decrypts the restic repository.",
    "",
  ].join("\n");
  return new Response(text, {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "content-disposition": `attachment; filename="freehold-recovery-kit-${os.hostname().replace(/[^A-Za-z0-9-]/g, "")}.txt"`,
      "cache-control": "no-store",
    },
  });
}
