import { readDraft } from "../../../_server/setup";
import { usbBackupCandidates } from "../../../lib/backup/usb";
import { detectStorage } from "../../../lib/storage/disks";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { BackupsForm } from "./backups-form";

export const metadata = { title: "Backups · Freehold" };

export default async function BackupsPage() {
  await requireWizard();
  const [draft, disks] = await Promise.all([readDraft(), detectStorage()]);
  const usb = await usbBackupCandidates(
    disks
      .filter((d) => d.removable && !d.system)
      .map((d) => ({ path: d.path, label: `${d.model ?? "USB disk"} ${d.path}` })),
  );
  return (
    <StepShell step="backups" title="Backups">
      <p className="lede">
        Encrypted with restic before they leave the box; checked monthly with a test restore, so you know they
        work.
      </p>
      <BackupsForm usb={usb} initial={draft.backups ?? null} />
    </StepShell>
  );
}
