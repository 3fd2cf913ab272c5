import { readDraft } from "../../../_server/setup";
import { hasTpm2 } from "../../../lib/hardware/detect";
import { detectStorage } from "../../../lib/storage/disks";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { StorageForm } from "./storage-form";

export const metadata = { title: "Storage · Freehold" };

export default async function StoragePage() {
  await requireWizard();
  const [draft, disks, tpm] = await Promise.all([readDraft(), detectStorage(), hasTpm2()]);
  return (
    <StepShell step="storage" title="Where your data lives">
      <p className="lede">
        Your data goes to /srv/freehold on the disk you choose, encrypted unless you turn it off.
      </p>
      <StorageForm disks={disks.filter((d) => !d.system)} initial={draft.storage ?? null} tpm={tpm} />
    </StepShell>
  );
}
