import { readDraft } from "../../../_server/setup";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";
import { UpdatesForm } from "./updates-form";

export const metadata = { title: "Updates · Freehold" };

export default async function UpdatesPage() {
  await requireWizard();
  const draft = await readDraft();
  return (
    <StepShell step="updates" title="Updates">
      <p className="lede">
        Debian's security updates keep the box safe; installing them automatically is recommended.
      </p>
      <UpdatesForm
        initial={
          draft.updates ?? { security: "automatic", reboot: "window", rebootTime: "04:00", apps: "manual" }
        }
      />
    </StepShell>
  );
}
