import os from "node:os";
import { redirect } from "next/navigation";
import { db } from "../../../_server/db";
import { currentPlan } from "../../../_server/setup";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { ConfirmKit, PrintButton } from "./confirm-kit";

export const metadata = { title: "Recovery kit · Freehold" };

export default async function RecoveryKitPage() {
  await requireWizard();
  const plan = await currentPlan();
  if (!plan) redirect("/setup/review");
  if (plan.kitConfirmedAt) redirect("/setup/apply");
  const secrets = await db().planSecret.findMany({
    where: { planId: plan.id, name: { in: ["disk.recoveryKey", "backup.repositoryPassword"] } },
  });
  const get = (name: string) => secrets.find((s) => s.name === name)?.value ?? null;
  const recoveryKey = get("disk.recoveryKey");
  const repositoryPassword = get("backup.repositoryPassword");
  return (
    <StepShell step="recovery-kit" title="Your recovery kit">
      <p className="lede">
        Print this page or download it, and keep it somewhere safe away from the box. It is shown only until
        you confirm; the box cannot show it again.
      </p>
      <section className="card kit" aria-label="Recovery kit" data-testid="recovery-kit">
        <h2>Freehold recovery kit: {os.hostname()}</h2>
        <dl>
          <dt>Disk recovery key</dt>
          <dd data-testid="recovery-key">
            <code>{recoveryKey ?? "(the data disk is not encrypted)"}</code>
          </dd>
          <dt>Backup repository password</dt>
          <dd data-testid="repository-password">
            <code>{repositoryPassword ?? "(no backups configured)"}</code>
          </dd>
        </dl>
        <p className="help">
          The recovery key opens the encrypted data disk if you forget your passphrase. The backup password
          decrypts your backups on any computer with restic, even if this box is lost.
        </p>
      </section>
      <p className="no-print">
        <a className="button" href="/setup/recovery-kit/download" download>
          Download the kit (text file)
        </a>{" "}
        <PrintButton />
      </p>
      <ConfirmKit />
    </StepShell>
  );
}
